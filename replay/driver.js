// sessionheat replay driver: runs in the replay host page, beside the vendored rrweb Replayer.
// Evaluated as an expression: (function (rrweb, root, events, options) {...}) -> driver.
//
// rrweb's own seeking is time based and leaves behind what a live browser would have had at that
// moment, so the driver applies events by index (one pass, forward only, rebuilding only when a
// cut lies in another full snapshot or behind the current one) and then "settles" the page:
//   - scroll positions are re-applied after images and fonts load (rrweb applies them at once, and
//     a document still missing its images clamps them);
//   - the pointer's hover target is taken from the position the pointer really had at the cut,
//     including positions rrweb batches into mouse-move events emitted later;
//   - CSS transitions and animations are set as far along as they were at the moment (see
//     moments.js, loaded beside this file), and finished where the recording says nothing of them:
//     a live page had long finished the drawer slide by the time anyone clicked, while a seek
//     starts it at the cut.
// Layout is what a replay pays for: every scroll and focus forces the browser to lay the page
// out, and between two of them the events in the way invalidate it again. So while catching up
// the driver only notes where each scroller is and what has focus, and applies both at the cut:
// one layout per moment asked about, not one per scroll or focus event on the way.
// The function's body is kept in files by concern (replay/driver_*.js), which
// plumbing.assets.page_script joins into this one scope at the INCLUDE comments below, in their order:
// driver_events.js first (its indices are what the others are built from). Names declared in one
// part are used by the others, as they were when this was one file.
(function sessionheatReplayDriver(rrweb, root, events, options) {
  "use strict";
  var FULL = 2, INCR = 3, META = 4, CUSTOM = 5;
  var MOVE = 1, INTERACTION = 2, SCROLL = 3, RESIZE = 4, TOUCH_MOVE = 6, DRAG = 12;
  var FOCUS = 5, BLUR = 6; // mouse interaction types
  // The recorder's own notes (custom events) are TAGS.<NAME> (plumbing.vocabulary.TAG_<NAME>).
  function isNote(e, tag) { return e.type === CUSTOM && !!e.data && e.data.tag === tag; }

  // One Replayer (and its frame) serves session after session on a page: making one costs a new
  // browsing context, and taking it down another, together more than replaying a demo session.
  // `release` empties it when a session ends; `adopt` resets what rrweb keeps per recording.
  var replayer = options.replayer || new rrweb.Replayer(events, {
    root: root,
    showWarning: !!options.showWarning,
    mouseTail: false,
    skipInactive: false,
    triggerFocus: true,
    pauseAnimation: false,
    useVirtualDom: false, // mutations go straight to the DOM, the same path as real-time playback
    insertStyleRules: options.insertStyleRules || [],
  });
  if (options.replayer) adopt(replayer, events);
  // rrweb builds the first snapshot itself a moment after construction; we build every document
  // ourselves, by index, so that first build would only be thrown away.
  replayer.firstFullSnapshot = true;
  var iframe = replayer.iframe;
  iframe.style.border = "0";
  iframe.style.display = "block";

  function adopt(r, evs) { // what rrweb's constructor and first build would have left for `evs`
    r.service.state.context.events = evs.slice().sort(function (a, b) { return a.timestamp - b.timestamp; });
    r.mirror.reset();
    r.styleMirror.reset();
    r.mediaManager.reset();
    r.imageMap = new Map();
    r.canvasEventMap = new Map();
    r.legacy_missingNodeRetryMap = {};
    r.newDocumentQueue = [];
    r.mousePos = null;
    r.touchActive = null;
    r.lastMouseDownEvent = null;
    r.lastHoveredRootNode = undefined;
    r.lastSelectionData = null;
    r.constructedStyleMutations = [];
    r.adoptedStyleSheets = [];
    r.usingVirtualDom = false;
  }

  /*@INCLUDE driver_events.js@*/

  /*@INCLUDE driver_scroll.js@*/

  /*@INCLUDE driver_focus_hover.js@*/

  /*@INCLUDE driver_loading.js@*/

  /*@INCLUDE driver_settle.js@*/

  /*@INCLUDE driver_measure.js@*/

  // --- the driver's interface (called from Python) -----------------------------------------------
  // rrweb's constructor resizes the frame to the first Meta in a zero-delay task: let it pass first.
  var ready = options.replayer ? Promise.resolve() : new Promise(function (resolve) { setTimeout(resolve, 0); });

  // Before the frame takes another session: nothing of this one may remain in it (no node, style
  // sheet, focus, hover, scroll position or request still loading).
  function release() {
    var d = doc(), w = win();
    try { if (w) w.stop(); } catch (e) { /* gone */ }
    if (d) emptyDocument(d);
    try { if (w) w.scrollTo(0, 0); } catch (e) { /* gone */ }
    adopt(replayer, []);
    replayer.applyScroll = rrweb.Replayer.prototype.applyScroll;
    forgetNoted();
    state.seg = -1;
  }

  function seek(cut, opts) {
    opts = opts || {};
    var t0;
    return ready.then(function () {
      t0 = performance.now();
      advance(cut, !!opts.fresh, (opts.skip || []).indexOf("hover") < 0);
      layoutCanvases(cut);
      var t1 = performance.now();
      state.ms.apply += t1 - t0;
      t0 = t1;
      var at = typeof opts.t === "number" ? events[0].timestamp + opts.t : null; // ms since the first event
      return settle(cut, opts.scroll, opts.timeoutMs, opts.skip, !!opts.layoutOnly, at);
    }).then(function (s) {
      return opts.layoutOnly ? s : paintCanvases(cut).then(function () { return s; });
    }).then(function (s) {
      state.ms.settle += performance.now() - t0;
      var l = layout();
      l.complete = s.complete;
      l.pointer = s.pointer;
      l.segment = state.seg;
      l.errors = state.errors;
      return l;
    });
  }

  // Many (cut, node id) queries in one pass; queries must come sorted by cut unless naive.
  // opts.probe(node, query, document), when given, is asked at each query's moment.
  function resolve(queries, opts) {
    opts = opts || {};
    var out = [];
    var chain = ready;
    queries.forEach(function (q) {
      chain = chain.then(function () {
        return seek(q.cut, { fresh: !!opts.naive, scroll: q.scroll, timeoutMs: opts.timeoutMs, skip: opts.skip,
                             layoutOnly: true });
      }).then(function (l) {
        var t0 = performance.now();
        var b = q.id == null ? { box: null, problem: null, tag: null } : boxOf(q.id);
        var r = { box: b.box, problem: b.problem, tag: b.tag || null, doc: l.doc, viewport: l.viewport,
                  scroll: l.scroll, segment: l.segment, complete: l.complete };
        if (opts.probe) { // a caller's question about the node (or point) at this moment
          var node = q.id == null ? null : replayer.getMirror().getNode(q.id);
          try { r.probe = opts.probe(node, q, doc()); } catch (err) { r.probe = null; r.problem = String(err); }
        }
        state.ms.measure += performance.now() - t0;
        out.push(r);
      });
    });
    return chain.then(function () { return out; });
  }

  function elementAt(x, y) { // document px -> rrweb id of the deepest element there
    var w = win(), d = doc();
    var s = scrollOf(w), size = layout().viewport;
    var cx = x - s[0], cy = y - s[1];
    var moved = false;
    if (cx < 0 || cy < 0 || cx >= size[0] || cy >= size[1]) {
      w.scrollTo({ left: Math.max(0, x - size[0] / 2), top: Math.max(0, y - size[1] / 2), behavior: "instant" });
      var s2 = scrollOf(w);
      cx = x - s2[0]; cy = y - s2[1];
      moved = true;
    }
    var el = d.elementFromPoint(cx, cy);
    while (el && el.tagName === "IFRAME" && el.contentDocument) { // descend into same-origin frames
      var r = el.getBoundingClientRect();
      var inner = el.contentDocument.elementFromPoint(cx - r.left - el.clientLeft, cy - r.top - el.clientTop);
      if (!inner) break;
      cx -= r.left + el.clientLeft; cy -= r.top + el.clientTop;
      el = inner;
    }
    if (moved) w.scrollTo({ left: s[0], top: s[1], behavior: "instant" });
    var id = el ? replayer.getMirror().getId(el) : -1;
    return id > 0 ? id : null;
  }

  function setFrameSize(width, height) { // for full-page screenshots; layout() tells the recorded size
    iframe.setAttribute("width", String(width));
    iframe.setAttribute("height", String(height));
  }

  return {
    document: doc,
    replayer: replayer,
    seek: seek,
    resolve: resolve,
    box: boxOf,
    layout: layout,
    elementAt: elementAt,
    unfaithful: unfaithful,
    setFrameSize: setFrameSize,
    restoreScrolls: restoreScrolls,
    release: release,
    state: state,
  };
})
