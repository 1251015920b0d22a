/* The player document: rrweb-player over the embedded events (rrweb rebuilds the recording in an
   iframe sandboxed without scripts), driven by the session page through postMessage. Accepts only
   messages from the parent window, sent from the UI's origin, of a known shape; reports its
   position back to the parent only. */
// Start once the document has loaded: an iframe rrweb creates while the page is still loading
// stays "loading" (about:blank) and holds back the load event of this page and the session page.
window.addEventListener("load", function () {
  "use strict";
  var config = JSON.parse(document.getElementById("player-config").textContent);
  var events = JSON.parse(document.getElementById("session-events").textContent);
  var uiOrigin = String(config.uiOrigin);
  var duration = Number(config.duration) || 0;

  function tell(message) {
    if (window.parent !== window) window.parent.postMessage(message, uiOrigin);
  }

  var lib = window.shPlayerLib && window.shPlayerLib.rrwebPlayer;
  var Player = lib && (lib.default || lib);
  var firstMeta = events.find(function (e) { return e.type === 4; });
  if (!Player || !firstMeta) {
    var problem = document.getElementById("player-problem");
    problem.textContent = Player ? "Nothing to replay." : "The player could not load.";
    problem.hidden = false;
    tell({ type: "sessionheat:error", reason: problem.textContent });
    return;
  }

  // Fit the recorded viewport into the frame, leaving room for the controller (80 px), and again
  // whenever the frame changes size (it may still be laid out when this document has loaded).
  function fitted() {
    var maxW = Math.max(200, window.innerWidth - 8);
    var maxH = Math.max(150, window.innerHeight - 88);
    var scale = Math.min(1, maxW / firstMeta.data.width, maxH / firstMeta.data.height);
    return { width: Math.round(firstMeta.data.width * scale), height: Math.round(firstMeta.data.height * scale) };
  }
  // rrweb-player marks custom events on its progress bar by tag: ours, named by the server
  // (plumbing.vocabulary.TAG_ANNOTATION), in the timeline's annotation colour.
  function annotationColours() {
    var colours = {};
    colours[String(config.annotationTag)] = "#b54708";
    return colours;
  }
  var size = fitted();
  var player = new Player({
    target: document.getElementById("player"),
    props: {
      events: events,
      width: size.width,
      height: size.height,
      autoPlay: false,
      skipInactive: true,
      showWarning: false,
      mouseTail: false,
      UNSAFE_replayCanvas: false,
      tags: annotationColours(),
    },
  });
  window.sessionPlayer = player;
  function refit() {
    var next = fitted();
    if (next.width === size.width && next.height === size.height) return;
    size = next;
    player.$set(size);
    player.triggerResize();
  }
  window.addEventListener("resize", refit);
  // This frame lives in a process of its own (another origin): it may load while it still has the
  // default 300x150 size and learn its real size later, without a resize event reaching us (seen
  // as a thumbnail-sized player now and then). An observer reports the size it has now, then on
  // every change of width.
  if (window.ResizeObserver) new ResizeObserver(refit).observe(document.documentElement);

  // Paused, rrweb freezes every CSS animation of the replayed page where it stands, so an image
  // that fades in on load would stay invisible at the moment sought: show animations finished.
  function finishAnimations() {
    var replayer = player.getReplayer && player.getReplayer();
    var doc = replayer && replayer.iframe && replayer.iframe.contentDocument;
    if (!doc || !doc.getAnimations) return;
    doc.getAnimations().forEach(function (animation) {
      try { animation.finish(); } catch (e) { /* an infinite animation has no end */ }
    });
  }

  var lastSent = -1;
  var seekedTo = null;  // the moment last asked for, reported as asked (not as asked + 1 ms)
  player.addEventListener("ui-update-current-time", function (payload) {
    var t = Math.round(Number(payload && payload.payload !== undefined ? payload.payload : payload));
    if (!isFinite(t)) return;
    if (seekedTo !== null && t - seekedTo >= 0 && t - seekedTo <= 1) t = seekedTo;  // our +1 ms
    else seekedTo = null;
    if (t === lastSent) return;
    lastSent = t;
    tell({ type: "sessionheat:time", t: t });
  });
  player.addEventListener("ui-update-player-state", function (payload) {
    var state = payload && payload.payload !== undefined ? payload.payload : payload;
    if (state === "paused") finishAnimations();
    if (state === "playing" || state === "paused") tell({ type: "sessionheat:state", state: state });
  });

  function seek(t, play) {
    t = Math.max(0, Math.min(duration, Math.round(t)));
    // rrweb applies the events strictly before the offset it is given: ask for 1 ms more, so the
    // moment itself (a page's snapshot, a click and its handler's changes) is on screen.
    seekedTo = t;
    lastSent = t;
    tell({ type: "sessionheat:time", t: t });
    player.goto(Math.min(duration, t + 1), !!play);
    if (!play) finishAnimations();
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== uiOrigin) return;
    var data = event.data;
    if (!data || typeof data !== "object" || Array.isArray(data)) return;
    if (data.type === "sessionheat:seek") {
      if (typeof data.t !== "number" || !isFinite(data.t) || data.t < 0 || data.t > duration) return;
      seek(data.t, data.play === true);
    } else if (data.type === "sessionheat:play") {
      player.play();
    } else if (data.type === "sessionheat:pause") {
      player.pause();
    }
  });

  var start = Number(config.startAt) || 0;
  if (start > 0) seek(start, false);
  tell({ type: "sessionheat:ready", duration: duration, t: start });
});
