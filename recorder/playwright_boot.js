// Init script wrapper for Playwright recording. Python fills in the three placeholders below:
// the vendored rrweb UMD bundle (wrapped to land on `holder`), record.js and the config JSON.
// It runs in every frame on every navigation, before the page's own scripts.
(function () {
  // Top frame only: rrweb follows same-origin iframes itself. http(s) only: rrweb.record on an
  // about:blank document crashes Chromium's renderer.
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  if (window.__sessionheatRecorder) return;
  var config = /*@CONFIG@*/;
  // The visit (record.js): reported at the first page of this tab's session only, with the visitor
  // note kept in localStorage as the snippet keeps it (record(returning=True) seeds one beforehand).
  config.visit = null;
  try {
    if (!sessionStorage.getItem(config.visitNote + ":visited")) {
      sessionStorage.setItem(config.visitNote + ":visited", "1");
      var note = null;
      try { note = JSON.parse(localStorage.getItem(config.visitNote)); } catch (e) { note = null; }
      if (note && typeof note.first_seen === "number") {
        config.visit = { visitor: "returning", first_seen: note.first_seen };
      } else {
        config.visit = { visitor: "new", first_seen: Date.now() };
        localStorage.setItem(config.visitNote, JSON.stringify({ first_seen: config.visit.first_seen }));
      }
    }
  } catch (e) { /* storage refused (an opaque origin): no visit to report */ }
  var holder = {};
  /*@RRWEB@*/
  // A page can run before Python has added the binding (a popup): its batches wait, in order,
  // until the binding is there.
  // The page's user agent goes ahead of its first batch (a note, not a batch: config.agentNote
  // and the agent): the recorder learns it without a round trip of its own to every page.
  var waiting = [config.agentNote + navigator.userAgent];
  function deliver() {
    var binding = window[config.binding];
    if (typeof binding !== "function") return false;
    while (waiting.length) binding(waiting.shift());
    return true;
  }
  function retry() {
    if (!deliver()) setTimeout(retry, 20);
  }
  var recorder = (/*@RECORD@*/)(holder.rrweb, config, function (batch) {
    waiting.push(batch);
    if (!deliver() && waiting.length === 1) setTimeout(retry, 20);  // else a retry is on its way
  });
  window.__sessionheatRecorder = recorder;
  // The page API a site calls to tag its session (the snippet defines the same one).
  var api = (window.sessionheat = window.sessionheat || {});
  api.set = recorder.set;
  api.identify = recorder.identify;
  api.event = recorder.event;
})();
