// What replay/session.py asks of the replay host page, written once here (the host page defines it
// as window.__shCalls) rather than sent as JavaScript text with every call. Evaluated as an
// expression: (function () {...}) -> {run, build, release, frameSize}.
// Arguments and answers travel as JSON strings: Playwright's own serialization of nested values
// costs more than the replay work for a batch of queries.
(function sessionheatHostCalls() {
  "use strict";

  // Takes the current replay down: its driver empties the frame and forgets the recording.
  function release() {
    if (window.__shDriver) window.__shDriver.release();
    window.__shDriver = null;
  }

  // The replay frame's size, which follows the recorded viewport.
  function frameSize(iframe) {
    var i = iframe || window.__shDriver.replayer.iframe;
    return [+i.getAttribute("width") || 0, +i.getAttribute("height") || 0];
  }

  // f(driver, arg), answered with the frame's size as JSON; `last`: then take the replay down.
  async function run(f, a, last) {
    var d = window.__shDriver, r;
    try { r = await f(d, JSON.parse(a)); } finally { if (last) release(); }
    return JSON.stringify([r === undefined ? null : r, frameSize(d.replayer.iframe)]);
  }

  // Releases any driver, makes one over the packed session (see replay/unpack.js) and, unless
  // its cut is null, seeks there: one page call per session switch.
  async function build(packed) {
    release();
    var a = await window.__shUnpack(packed);
    var d = window.__shMakeDriver(window.__shLib.rrweb, document.getElementById("root"), a.events,
                                  { replayer: window.__shReplayer, resourceTimeoutMs: a.timeout });
    window.__shDriver = d;
    window.__shReplayer = d.replayer;
    if (a.cut === null) return null;
    var r = await d.seek(a.cut, {});
    return JSON.stringify([r, frameSize(d.replayer.iframe)]);
  }

  return { run: run, build: build, release: release, frameSize: frameSize };
})
