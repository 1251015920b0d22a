// sessionheat in-page recorder core, shared by the Playwright recorder and the snippet.
// Evaluated as an expression: (function (rrweb, config, send) {...}).
//   rrweb  - the vendored rrweb build (never the page's own)
//   config - {maskInputs, flushMs, maxBatch, evidence, leaveEvents}
//   send   - function(batchJson: string, final: boolean) -> Promise|undefined; owns the transport
// It buffers events in the page and hands them over in batches: one transport call per event made
// a mutation-heavy page 2.7x slower than no recording, against 1.7x for buffering alone.
(function sessionheatRecord(rrweb, config, send) {
  "use strict";
  var buffer = [];
  var pending = Promise.resolve();

  function flush(final) {
    if (!buffer.length) return pending;
    var batch = buffer;
    buffer = [];
    try {
      pending = Promise.resolve(send(JSON.stringify(batch), !!final)).catch(function () {});
    } catch (e) {
      pending = Promise.resolve();
    }
    return pending;
  }

  // Custom events made before rrweb's first snapshot (a page tagging its variant from an inline
  // script) are held back: rrweb refuses them until it records, and replay needs them after the
  // snapshot anyway.
  var early = [];
  var started = false;
  var afterSnapshot = []; // functions run (in a task of their own) once rrweb's first snapshot is out

  // When each image first finished loading (or failed), for images the first snapshot caught on
  // their way or that came later: until then the page had no picture there, and no size from it.
  // rrweb records the image, not its arrival, so a replay would lay a click made while a late
  // image was still loading out as if the image had been there all along. (Set up before rrweb
  // starts: when the page is already loaded, rrweb takes its snapshot inside record().)
  var loadedImages = new WeakSet();
  function noteLoadedImages() {
    for (var k = 0; k < document.images.length; k++) {
      var img = document.images[k]; // (an image without a source counts as complete: not it)
      if (img.complete && img.currentSrc) loadedImages.add(img);
    }
  }
  function imageArrived(ev) {
    var img = ev.target;
    if (!img || img.tagName !== "IMG" || loadedImages.has(img)) return;
    loadedImages.add(img); // later loads of a new source are not timed (the old picture stays meanwhile)
    var id = started ? rrweb.record.mirror.getId(img) : -1;
    if (id > 0) custom("sessionheat.load", { id: id, ok: ev.type === "load" });
  }
  document.addEventListener("load", imageArrived, true);
  document.addEventListener("error", imageArrived, true);

  var stop = rrweb.record({
    emit: function (event) {
      buffer.push(event);
      if (!started && event.type === 2) {
        started = true;
        noteLoadedImages();
        setTimeout(function () { early.splice(0).forEach(function (c) { custom(c[0], c[1]); }); }, 0);
        afterSnapshot.forEach(function (fn) { setTimeout(fn, 0); });
      }
      if (buffer.length >= config.maxBatch) setTimeout(flush, 0);
    },
    recordAfter: "DOMContentLoaded", // do not wait for every image: early clicks count too
    maskAllInputs: !!config.maskInputs,
    maskInputOptions: { password: true }, // password fields are masked even when inputs are not
    blockSelector: "[data-sessionheat-block]",
    maskTextSelector: "[data-sessionheat-mask]",
    inlineStylesheet: true,
    collectFonts: true,
    recordCanvas: false,
  });

  // Never throws into the page: rrweb refuses custom events whenever it is not recording (it
  // switches recording on only after its first snapshot is out, and off when stopped), and an
  // image can arrive at any of those moments.
  function custom(tag, payload) {
    if (!started) { early.push([tag, payload]); return; }
    try { rrweb.record.addCustomEvent(tag, payload); } catch (e) { /* not recording: nothing to note */ }
  }

  // SPA route changes: rrweb sees the DOM change but not that the visitor is on a new page.
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      custom("sessionheat.route", { href: location.href, kind: name === "pushState" ? "push" : "replace" });
      return result;
    };
  });
  addEventListener("popstate", function () {
    custom("sessionheat.route", { href: location.href, kind: "pop" });
  });

  // Chromium dispatches `scroll` at the next frame, so a click right after a jump (a scripted click
  // that scrolls its target into view, a keyboard jump) would be recorded before the scroll that
  // preceded it. Say where the page really is before any click that would otherwise be misplaced.
  var lastScroll = [scrollX, scrollY];
  addEventListener("scroll", function () { lastScroll = [scrollX, scrollY]; }, { capture: true, passive: true });
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function () {
      if (scrollX !== lastScroll[0] || scrollY !== lastScroll[1]) {
        lastScroll = [scrollX, scrollY];
        custom("sessionheat.scroll", { x: scrollX, y: scrollY });
      }
    }, true);
  });

  // --- open shadow roots ------------------------------------------------------------------------
  // Transition, animation and toggle events are not composed: from inside a shadow root they never
  // reach the document. The blocks below that need them listen on every open root as well.
  var watchedRoots = new Set(); // the document and every open shadow root seen
  var rootListeners = []; // [type, listener], each added (capturing) to every watched root
  function listenInRoots(type, listener) {
    rootListeners.push([type, listener]);
    watchedRoots.forEach(function (root) { root.addEventListener(type, listener, true); });
  }
  function watchRoot(root) {
    if (watchedRoots.has(root)) return;
    watchedRoots.add(root);
    rootListeners.forEach(function (l) { root.addEventListener(l[0], l[1], true); });
  }
  watchRoot(document);
  var attachShadow = Element.prototype.attachShadow;
  if (attachShadow) {
    Element.prototype.attachShadow = function () {
      var root = attachShadow.apply(this, arguments);
      try { if (this.shadowRoot === root) watchRoot(root); } catch (e) { /* never into the page */ }
      return root;
    };
  }
  function watchExistingShadowRoots(node) { // roots made before this script ran (a late snippet)
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT);
    for (var el = walker.currentNode; el; el = walker.nextNode()) {
      if (el.shadowRoot && !watchedRoots.has(el.shadowRoot)) {
        watchRoot(el.shadowRoot);
        watchExistingShadowRoots(el.shadowRoot);
      }
    }
  }
  afterSnapshot.push(function () { watchExistingShadowRoots(document); });

  // --- moments: how far along each transition and animation was -------------------------------
  // A replay cut at a click must show transitions as far along as the visitor saw them, not
  // finished. Notes (TAG_ANIMATIONS, "sessionheat.animations") say what was running, each item
  // with its start in this page's document-timeline ms (so the replay can set its currentTime,
  // delay included), and a transition with its keyframes and timing (a replay that rebuilt the page
  // has no before-change style to start one from). Written when one begins (transitionrun,
  // animationstart; shadow roots do not pass these to the document, so each open root is listened
  // to), when recording starts, and before each click with everything running then: a transition
  // that the click's own style update created announces itself only at the next frame.
  var ANIMATIONS_NOTE = "sessionheat.animations"; // sessionheat.events.TAG_ANIMATIONS

  function describeAnimation(a, now) { // a note's item for Animation `a`, or null
    var effect = a.effect, target = effect && effect.target;
    if (!target || a.playState === "idle" || a.playState === "finished" || a.currentTime === null) return null;
    var transition = typeof a.transitionProperty === "string";
    if (!transition && typeof a.animationName !== "string") return null; // a script's: not in any CSS
    var id = rrweb.record.mirror.getId(target);
    if (!(id > 0)) return null;
    var item = { id: id, kind: transition ? "transition" : "animation",
                 name: transition ? a.transitionProperty : a.animationName,
                 start: Math.round((now - a.currentTime) * 1000) / 1000 };
    if (effect.pseudoElement) item.pseudo = effect.pseudoElement;
    if (a.playState === "paused") item.held = a.currentTime; // animation-play-state: paused
    if (transition) { // a transition's two keyframes, from and to, in the keyframe's own key
      var t = effect.getTiming(), frames = effect.getKeyframes(), key = null;
      for (var k in frames[0]) {
        if (k !== "offset" && k !== "easing" && k !== "composite" && k !== "computedOffset") key = k;
      }
      if (frames.length !== 2 || key === null) return null;
      item.timing = { delay: t.delay, duration: t.duration, easing: t.easing };
      item.key = key;
      item.values = [frames[0][key], frames[1][key]];
    }
    return item;
  }

  function noteAnimations(list) {
    var now = document.timeline && document.timeline.currentTime;
    if (now === null || now === undefined) return;
    var running = [];
    list.forEach(function (a) {
      try { var item = describeAnimation(a, now); if (item) running.push(item); } catch (e) { /* gone */ }
    });
    if (running.length) custom(ANIMATIONS_NOTE, { at: now, running: running });
  }

  function everyAnimation() { // document.getAnimations() leaves shadow trees out
    var all = [];
    watchedRoots.forEach(function (root) {
      // A root whose host left the page is let go (the Set would keep it alive); its own listeners
      // stay, so a component put back still notes its transitions as they begin.
      if (root !== document && !root.host.isConnected) { watchedRoots.delete(root); return; }
      try { all = all.concat(root.getAnimations()); } catch (e) { /* no Web Animations */ }
    });
    return all;
  }

  // transitionrun and animationstart only say that something began: what began is read from
  // getAnimations() once per task for all of them. Asking the element in each event's listener
  // cost 12 ms an event (a style update each time): 7 s for 300 boxes toggling two properties.
  var noted = new WeakSet(); // Animations already noted as begun
  var lookScheduled = false;
  function animationBegan() {
    if (!started || lookScheduled) return;
    lookScheduled = true;
    setTimeout(noteBegun, 0);
  }
  function noteBegun() {
    lookScheduled = false;
    var fresh = [], waiting = null;
    everyAnimation().forEach(function (a) {
      if (noted.has(a)) return;
      // Still pending, it has no start time yet (its currentTime holds at 0): look again once it has.
      if (a.pending) { waiting = waiting || a; return; }
      noted.add(a);
      fresh.push(a);
    });
    noteAnimations(fresh);
    if (waiting) waiting.ready.then(animationBegan, function () {});
  }

  // One that stopped before its end without another taking over (a hover left where only :hover
  // declares the transition, an element hidden) is noted as ended: otherwise the replay would go on
  // remaking it for the rest of its duration.
  function animationCancelled(ev) {
    var now = document.timeline && document.timeline.currentTime;
    var id = started && ev.target ? rrweb.record.mirror.getId(ev.target) : -1;
    if (!(id > 0) || now === null || now === undefined) return;
    var item = { id: id, kind: ev.type === "transitioncancel" ? "transition" : "animation",
                 name: ev.type === "transitioncancel" ? ev.propertyName : ev.animationName, start: now };
    if (ev.pseudoElement) item.pseudo = ev.pseudoElement;
    custom(ANIMATIONS_NOTE, { at: now, running: [], ended: [item] });
  }

  listenInRoots("transitionrun", animationBegan);
  listenInRoots("animationstart", animationBegan);
  listenInRoots("transitioncancel", animationCancelled);
  listenInRoots("animationcancel", animationCancelled);
  afterSnapshot.push(noteBegun); // what runs as recording starts (after the roots are found)
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function () { if (started) noteAnimations(everyAnimation()); }, true);
  });

  // --- the top layer: open popovers and modal dialogs ---------------------------------------------
  // showPopover() (or a popovertarget button) changes no attribute, and showModal() only sets
  // `open`, as a plain show() does: rrweb records neither a popover opening nor a dialog being
  // modal. Notes (TAG_TOP_LAYER, "sessionheat.toplayer") say when each opened and closed, and
  // whether modally: on `toggle` (not composed: listened to in every open root), on showModal()
  // (browsers whose dialogs fire no toggle), and for what is open when recording starts.
  var TOP_LAYER_NOTE = "sessionheat.toplayer"; // sessionheat.events.TAG_TOP_LAYER

  function inTopLayer(el) { // {popover, modal} of an element that can be in the top layer, or null
    var popover = el.hasAttribute("popover");
    if (!popover && el.tagName !== "DIALOG") return null; // (a <details> toggles too: rrweb sees `open`)
    var state = { popover: popover, open: false, modal: false };
    try { state.open = popover ? el.matches(":popover-open") : el.open; } catch (e) { return null; }
    try { state.modal = el.tagName === "DIALOG" && el.matches(":modal"); } catch (e) { /* no :modal */ }
    return state;
  }

  function noteTopLayer(el) {
    var state = el && el.hasAttribute && inTopLayer(el), id = state && rrweb.record.mirror.getId(el);
    if (!(id > 0)) return;
    custom(TOP_LAYER_NOTE, { id: id, open: state.open, modal: state.modal, popover: state.popover });
  }
  listenInRoots("toggle", function (ev) { if (started) noteTopLayer(ev.target); });
  var showModal = window.HTMLDialogElement && HTMLDialogElement.prototype.showModal;
  if (showModal) {
    HTMLDialogElement.prototype.showModal = function () {
      var result = showModal.apply(this, arguments);
      try { if (started) noteTopLayer(this); } catch (e) { /* never into the page */ }
      return result;
    };
  }
  afterSnapshot.push(function () {
    watchedRoots.forEach(function (root) {
      root.querySelectorAll("[popover], dialog[open]").forEach(function (el) {
        var state = inTopLayer(el);
        if (state && state.open && (state.popover || state.modal)) noteTopLayer(el);
      });
    });
  });

  // --- inner scrollers at each click ---------------------------------------------------------------
  // The window block above, for scrolling containers: a click right after a container scrolled
  // (scrollIntoView, a fast wheel) comes before Chromium's `scroll` for it, and rrweb samples those
  // anyway. Before a click, each scrolled ancestor of what it hit (through shadow roots) whose
  // position differs from what its last `scroll` said is noted (TAG_INNER_SCROLL).
  var INNER_SCROLL_NOTE = "sessionheat.innerscroll"; // sessionheat.events.TAG_INNER_SCROLL
  var seenScroll = new WeakMap(); // element -> [left, top] at its last `scroll`
  listenInRoots("scroll", function (ev) {
    var el = ev.target;
    if (el && el.nodeType === 1) seenScroll.set(el, [el.scrollLeft, el.scrollTop]);
  });
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function (ev) {
      if (!started || !ev.composedPath) return;
      ev.composedPath().forEach(function (el) {
        if (!el || el.nodeType !== 1 || el === document.scrollingElement) return; // (the window's: above)
        var x = el.scrollLeft, y = el.scrollTop, seen = seenScroll.get(el);
        if (seen ? seen[0] === x && seen[1] === y : x === 0 && y === 0) return;
        seenScroll.set(el, [x, y]);
        var id = rrweb.record.mirror.getId(el);
        if (id > 0) custom(INNER_SCROLL_NOTE, { id: id, x: x, y: y });
      });
    }, true);
  });

  if (config.evidence) {
    // What a click actually hit, with its box as this live page had it: ground truth for tests and
    // benchmarks, since overlays can make a scripted click land elsewhere than it aimed.
    document.addEventListener("click", function (ev) {
      var target = ev.target;
      if (!target || !target.getBoundingClientRect) return;
      var r = target.getBoundingClientRect();
      custom("sessionheat.click", {
        id: rrweb.record.mirror.getId(target),
        x: ev.clientX, y: ev.clientY,
        scroll: [scrollX, scrollY],
        box: [r.left + scrollX, r.top + scrollY, r.width, r.height],
      });
    }, true);
  }

  // Batches leave in idle time, so serialising and sending them does not compete with the page's
  // own work; the idle callback's timeout still gets every event out within ~2 x flushMs.
  var scheduled = false;
  function flushWhenIdle() {
    if (scheduled || !buffer.length) return;
    scheduled = true;
    var run = function () { scheduled = false; flush(); };
    if (window.requestIdleCallback) requestIdleCallback(run, { timeout: config.flushMs });
    else setTimeout(run, 0);
  }
  var timer = setInterval(flushWhenIdle, config.flushMs);
  // The last batch of a page. Playwright's transport needs `beforeunload` (binding calls made in
  // `pagehide` never arrive); the snippet uses `pagehide`, which keeps the back/forward cache.
  (config.leaveEvents || ["pagehide"]).forEach(function (name) {
    addEventListener(name, function () { flush(true); });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(true);
  });

  return {
    flush: flush,
    stop: function () { clearInterval(timer); if (stop) stop(); return flush(true); },
    set: function (props) { custom("sessionheat.set", props || {}); },
    identify: function (userId, props) {
      custom("sessionheat.identify", { user_id: String(userId), properties: props || {} });
    },
    event: function (name, data) {
      custom("sessionheat.annotation", { name: String(name), data: data || {} });
    },
  };
})
