// sessionheat in-page recorder core, shared by the Playwright recorder and the snippet.
// Evaluated as an expression: (function (rrweb, config, send) {...}).
//   rrweb  - the vendored rrweb build (never the page's own)
//   config - {maskInputs, flushMs, maxBatch, evidence, leaveEvents, canvas, visit}
//            (canvas: false, or {intervalMs, type, quality, sampleQuality}: see "canvas snapshots";
//            visit: null, or at a session's first page {visitor?, first_seen?}: see "The visit")
//   send   - function(batchJson: string, final: boolean) -> Promise|undefined; owns the transport
//   TAGS   - the custom-event tags (TAGS.CANVAS is plumbing.vocabulary.TAG_CANVAS), given by the
//            one loader of page scripts, plumbing.assets.page_script
// It buffers events in the page and hands them over in batches: one transport call per event made
// a mutation-heavy page 2.7x slower than no recording, against 1.7x for buffering alone.
// Its longer blocks are files of their own (recorder/record_*.js), put in at their INCLUDE comments
// by plumbing.assets.page_script: one function, one scope, as if written here.
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
  // Runs `fn` (in a task of its own) once rrweb's first snapshot is out, or now if it is: on a page
  // that has loaded already (a popup's first page, a snippet put in late) rrweb takes that snapshot
  // inside record(), before the blocks below have asked.
  var snapshotWaiters = [];
  function afterSnapshot(fn) {
    if (started) setTimeout(fn, 0);
    else snapshotWaiters.push(fn);
  }

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
    if (id > 0) custom(TAGS.IMAGE_LOAD, { id: id, ok: ev.type === "load" });
  }
  document.addEventListener("load", imageArrived, true);
  document.addEventListener("error", imageArrived, true);


  /*@INCLUDE record_style_sources.js@*/


  /*@INCLUDE record_canvas.js@*/

  var stop = rrweb.record({
    emit: function (event) {
      styleSources(event);
      buffer.push(event);
      if (!started && event.type === 2) {
        started = true;
        noteLoadedImages();
        // What was noted before the snapshot goes right behind it, in this same batch: rrweb takes
        // custom events only once this callback has returned, and a page that navigates at once
        // (a journey's first goto) sends its last batch before a later tick would have run.
        early.splice(0).forEach(function (c) {
          buffer.push({ type: 5, data: { tag: c[0], payload: c[1] }, timestamp: Date.now() });
        });
        snapshotWaiters.splice(0).forEach(function (fn) { setTimeout(fn, 0); });
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

  // The visit: where the session's first page landed, the referrer it came with, and what the
  // visitor note said (config.visit: {visitor?, first_seen?}, given by the transport at a session's
  // first page only). The page reports what it saw; plumbing/traffic.py derives the properties.
  if (config.visit) {
    var visit = { href: location.href, referrer: document.referrer || "" };
    if (config.visit.visitor) { visit.visitor = config.visit.visitor; visit.first_seen = config.visit.first_seen; }
    custom(TAGS.VISIT, visit);
  }

  // SPA route changes: rrweb sees the DOM change but not that the visitor is on a new page.
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      custom(TAGS.ROUTE, { href: location.href, kind: name === "pushState" ? "push" : "replace" });
      return result;
    };
  });
  addEventListener("popstate", function () {
    custom(TAGS.ROUTE, { href: location.href, kind: "pop" });
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
        custom(TAGS.SCROLL, { x: scrollX, y: scrollY });
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
  afterSnapshot(function () { watchExistingShadowRoots(document); });

  /*@INCLUDE record_moments.js@*/

  // --- inner scrollers at each click ---------------------------------------------------------------
  // The window block above, for scrolling containers: a click right after a container scrolled
  // (scrollIntoView, a fast wheel) comes before Chromium's `scroll` for it, and rrweb samples those
  // anyway. Before a click, each scrolled ancestor of what it hit (through shadow roots) whose
  // position differs from what its last `scroll` said is noted (TAGS.INNER_SCROLL).
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
        if (id > 0) custom(TAGS.INNER_SCROLL, { id: id, x: x, y: y });
      });
    }, true);
  });

  // --- focus: whether its ring showed ----------------------------------------------------------------
  // A click focuses a button without a focus ring (:focus-visible does not match); the replay's
  // focus() comes from script with no click before it and draws the ring. Each focus is noted with
  // whether it showed (TAGS.FOCUS_VISIBLE), for the element focused and each shadow host around it
  // (a host matches :focus as well), so the replay focuses each the same way.
  addEventListener("focusin", function (ev) {
    if (!started || !ev.composedPath) return;
    var path = ev.composedPath(), el = path[0];
    while (el && el.nodeType === 1) {
      var id = rrweb.record.mirror.getId(el), visible;
      try { visible = el.matches(":focus-visible"); } catch (e) { return; } // no :focus-visible
      if (id > 0) custom(TAGS.FOCUS_VISIBLE, { id: id, visible: visible });
      var root = el.getRootNode();
      el = root && root.host; // the shadow host, focused with it
    }
  }, true);

  if (config.evidence) {
    // What a click actually hit, with its box as this live page had it: ground truth for tests and
    // benchmarks, since overlays can make a scripted click land elsewhere than it aimed. The element
    // is the first of the click's composed path, read while the click is dispatched (afterwards the
    // path is empty): `ev.target` is retargeted to the shadow host, not the element inside its shadow
    // root that was hit. Clicks inside same-origin iframes count too, boxed in top-document px as
    // the replay measures them. Tag: TAGS.LIVE_CLICK.
    var frameOffset = function (win) { // where a frame's viewport starts, in top viewport px
      var x = 0, y = 0;
      while (win && win !== window && win.frameElement) {
        var fe = win.frameElement, fr = fe.getBoundingClientRect();
        x += fr.left + fe.clientLeft;
        y += fr.top + fe.clientTop;
        win = win.parent;
      }
      return [x, y];
    };
    var evidenceClick = function (ev) {
      var path = ev.composedPath ? ev.composedPath() : [];
      var target = path.length ? path[0] : ev.target;
      if (target && target.nodeType === 3) target = target.parentNode;
      if (!target || !target.getBoundingClientRect) return;
      var r = target.getBoundingClientRect();
      var o = frameOffset(target.ownerDocument && target.ownerDocument.defaultView);
      custom(TAGS.LIVE_CLICK, {
        id: rrweb.record.mirror.getId(target), // shadow roots and same-origin frames share this mirror
        x: ev.clientX + o[0], y: ev.clientY + o[1],
        scroll: [scrollX, scrollY],
        box: [r.left + o[0] + scrollX, r.top + o[1] + scrollY, r.width, r.height],
      });
    };
    var evidenceDocs = new WeakSet();
    var watchClicks = function (doc) {
      if (!doc || evidenceDocs.has(doc)) return;
      evidenceDocs.add(doc);
      doc.addEventListener("click", evidenceClick, true);
      // A frame's document exists once its `load` fires (caught while capturing: it does not bubble).
      doc.addEventListener("load", function (ev) {
        var frame = ev.target;
        if (frame && frame.tagName === "IFRAME") {
          try { watchClicks(frame.contentDocument); } catch (e) { /* cross-origin: not ours to see */ }
        }
      }, true);
    };
    watchClicks(document);
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
  // The first snapshot, the largest batch and the one a replay cannot do without, leaves at the first
  // idle moment rather than the timer's next tick: a page left or stopped soon after (a test that is
  // over, a visitor who bounces) then no longer has it to hand over on its way out.
  afterSnapshot(flushWhenIdle);
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
    set: function (props) { custom(TAGS.SET_PROPERTIES, props || {}); },
    identify: function (userId, props) {
      custom(TAGS.IDENTIFY, { user_id: String(userId), properties: props || {} });
    },
    event: function (name, data) {
      custom(TAGS.ANNOTATION, { name: String(name), data: data || {} });
    },
  };
})
