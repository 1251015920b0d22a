// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// Seeking: indices over the events, and applying them by index (one pass, forward only,
// rebuilding a page only when the cut lies in another full snapshot or behind the current one).
  // --- indices over the events -----------------------------------------------------------------
  var fulls = [];
  for (var i = 0; i < events.length; i++) if (events[i].type === FULL) fulls.push(i);
  var moments = window.__shMoments(events, { segmentOf: segmentOf, isNote: isNote, documents: documents,
                                             mirror: function () { return replayer.getMirror(); } });

  var INPUT = 5;
  function isInputEvent(e) {
    return e.type === INCR && e.data.source === INPUT && e.data.id !== -1;
  }

  function isFocusEvent(e) {
    return e.type === INCR && e.data.source === INTERACTION && (e.data.type === FOCUS || e.data.type === BLUR);
  }

  function segmentOf(index) { // index of the full snapshot the DOM at `index` is built from
    var found = -1;
    for (var k = 0; k < fulls.length && fulls[k] <= index; k++) found = fulls[k];
    return found;
  }

  // Canvas pictures the recorder took (replay/canvas.js, loaded by the host page beside us).
  var canvases = typeof window.__shCanvasReplay === "function" ? window.__shCanvasReplay(events, segmentOf) : null;

  // Every pointer position with the time it was really at (rrweb batches mouse moves and emits
  // them up to half a second later, with negative offsets).
  var pointer = [];
  events.forEach(function (e, index) {
    if (e.type !== INCR) return;
    var d = e.data, seg = segmentOf(index);
    if (d.source === MOVE || d.source === TOUCH_MOVE || d.source === DRAG) {
      (d.positions || []).forEach(function (p) {
        pointer.push({ t: e.timestamp + (p.timeOffset || 0), x: p.x, y: p.y, id: p.id, seg: seg, index: index });
      });
    } else if (d.source === INTERACTION && typeof d.x === "number") {
      pointer.push({ t: e.timestamp, x: d.x, y: d.y, id: d.id, seg: seg, index: index });
    }
  });
  pointer.sort(function (a, b) { return a.t - b.t || a.index - b.index; });

  // How many events up to each index could have moved what lies under a resting pointer. While
  // none has since the pointer's last recorded position, the element rrweb recorded there is
  // what the browser hovered, and no hit test (a layout, and more) is needed to find it.
  var SELECTION = 14;
  var times = events.map(function (e) { return e.timestamp; });
  var moved = new Array(events.length);
  events.forEach(function (e, index) {
    var d = e.data || {}, s = d.source, still;
    if (e.type === INCR) {
      still = s === MOVE || s === TOUCH_MOVE || s === DRAG || s === SELECTION
        || (s === INTERACTION && d.type !== FOCUS && d.type !== BLUR);
    } else {
      still = !(e.type === FULL || e.type === META || isNote(e, TAGS.SCROLL) || isNote(e, TAGS.IMAGE_LOAD));
    }
    moved[index] = (index ? moved[index - 1] : 0) + (still ? 0 : 1);
  });

  function upperBound(list, t, timeOf) { // index of the first item of sorted `list` later than t
    var lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (timeOf(list[mid]) <= t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function firstAfter(t) { // index of the first event later than t
    return upperBound(times, t, function (time) { return time; });
  }

  // --- applying events -------------------------------------------------------------------------
  // `opened`: the frame holds a document rrweb has opened (see rebuildFrom).
  var state = { seg: -1, applied: -1, errors: 0, rebuilds: 0, opened: !!options.replayer,
                ms: { apply: 0, settle: 0, measure: 0 } };

  function cast(e) {
    try {
      if (isNote(e, TAGS.SCROLL) || isNote(e, TAGS.INNER_SCROLL)) {
        // The recorder's statement of where the window (or a container) really was when a click
        // outran `scroll`: exact at that moment, so no later emission's guess overrides it then.
        var p = e.data.payload, id = isNote(e, TAGS.SCROLL) ? replayer.getMirror().getId(doc()) : p.id;
        if (id > 0) { replayer.applyScroll({ id: id, x: p.x, y: p.y }); stated.set(id, e.timestamp); }
        return;
      }
      replayer.getCastFn(e, true)();
    } catch (err) {
      state.errors++;
    }
  }

  // Takes everything a page put in the frame's document out of it: nodes, constructed style
  // sheets, and fonts added through the CSS Font Loading API (rrweb's font events), which the
  // document keeps when its nodes go.
  function emptyDocument(d) {
    while (d.firstChild) d.removeChild(d.firstChild);
    if (d.adoptedStyleSheets && d.adoptedStyleSheets.length) d.adoptedStyleSheets = [];
    if (d.fonts && d.fonts.clear) d.fonts.clear();
  }

  // A page going away takes with it what was noted for its cut: scroll positions, focus, inputs.
  function forgetNoted() {
    scrolls = new Map();
    stated = new Map();
    focusEvents = [];
    focusShown = new Map();
    inputEvents = new Map();
    held = new Map();
  }

  // Replaces target[name] with a no-op until the returned function is called.
  function stub(target, name) {
    if (!target) return function () {};
    var own = Object.getOwnPropertyDescriptor(target, name);
    Object.defineProperty(target, name, { value: function () {}, configurable: true, writable: true });
    return function () {
      delete target[name];
      if (own) Object.defineProperty(target, name, own);
    };
  }

  function rebuildFrom(seg) {
    var meta = -1;
    for (var k = seg - 1; k >= 0; k--) if (events[k].type === META) { meta = k; break; }
    // Take the outgoing page down first: rrweb's document.close() would lay it out once more
    // (at the next page's size, after the Meta below) only to throw it away.
    var old = doc();
    if (old && old.documentElement) old.documentElement.remove();
    if (meta >= 0) cast(events[meta]);
    forgetNoted();
    replayer.firstFullSnapshot = true; // never let rrweb skip a snapshot it built by itself
    // rrweb scrolls the new document to its initial offset at once, which lays out a page that the
    // events up to the cut will change again: the offset is noted below and applied at the cut.
    var w = win();
    var undo = [stub(w, "scrollTo")];
    // rrweb also starts every document with document.close() and .open(), which cost more than
    // building the page: close() finishes the emptied previous page (style, layout tree, load
    // events) and open() resets the document. Once the frame holds a document that rrweb opened
    // (after the first build), emptying it is all the next build needs, as long as both pages are
    // in standards mode: only open() (and the doctype rrweb then writes) sets quirks mode, or
    // leaves it, so a page of a BackCompat snapshot, or the one after it, goes the long way.
    var d = doc();
    if (state.opened && d && d.compatMode === "CSS1Compat" && events[seg].data.node.compatMode !== "BackCompat") {
      emptyDocument(d);
      undo.push(stub(d, "open"), stub(d, "close"));
    }
    try {
      cast(events[seg]);
    } finally {
      undo.forEach(function (restore) { restore(); });
    }
    state.opened = true;
    var snap = events[seg].data;
    collectSnapshotScrolls(snap.node);
    if (snap.initialOffset) scrolls.set(snap.node.id, { x: snap.initialOffset.left || 0, y: snap.initialOffset.top || 0 });
    state.seg = seg;
    state.applied = seg;
    state.rebuilds++;
    mayLoad = true;
    settled.moved = -1;
  }

  function advance(cut, fresh, ownHover) {
    var seg = segmentOf(cut);
    if (seg < 0) throw new Error("no full snapshot before event " + cut);
    if (fresh || seg !== state.seg || cut < state.applied) rebuildFrom(seg);
    for (var k = state.applied + 1; k <= cut; k++) {
      if (isFocusEvent(events[k])) focusEvents.push(events[k]);
      else if (isNote(events[k], TAGS.FOCUS_VISIBLE)) {
        focusShown.set(events[k].data.payload.id, !!events[k].data.payload.visible);
      }
      else if (isInputEvent(events[k])) {
        inputEvents.delete(events[k].data.id); // keeps the map in order of last events
        inputEvents.set(events[k].data.id, { event: events[k], index: k });
      } else cast(events[k]);
      if (!mayLoad && mayStartLoads(events[k])) mayLoad = true;
    }
    var changed = cut > state.applied;
    state.applied = Math.max(state.applied, cut);
    applyInputs();
    holdLateImages(cut);
    if (changed) { closeStrayDialogs(); moments.topLayer(cut); }
    // rrweb hovers the last recorded pointer target on flush; when our own hover (from where the
    // pointer really was) follows, that would only dirty the style once more.
    if (ownHover) replayer.mousePos = null;
    replayer.emitter.emit("flush");
  }

  // rrweb replays the closing of a modal dialog by removing its open attribute, which leaves it in
  // the browser's top layer: unseen, yet over the whole page for hit tests (and the page inert).
  function closeStrayDialogs() {
    documents().forEach(function (d) {
      if (!d.getElementsByTagName("dialog").length) return; // (a live list: cheap to ask again)
      d.querySelectorAll("dialog:modal:not([open])").forEach(function (dialog) {
        dialog.setAttribute("open", ""); // close() leaves a dialog without it where it is
        dialog.close();
      });
    });
  }
