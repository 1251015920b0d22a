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
(function sessionheatReplayDriver(rrweb, root, events, options) {
  "use strict";
  var FULL = 2, INCR = 3, META = 4, CUSTOM = 5;
  var MOVE = 1, INTERACTION = 2, SCROLL = 3, RESIZE = 4, TOUCH_MOVE = 6, DRAG = 12;
  var FOCUS = 5, BLUR = 6; // mouse interaction types
  // The recorder's own notes (custom events): where the window (and a scrolling container) really
  // was when a click outran `scroll`, and an image's first arrival.
  var SCROLL_NOTE = "sessionheat.scroll", IMAGE_LOAD = "sessionheat.load";
  var INNER_SCROLL_NOTE = "sessionheat.innerscroll"; // plumbing.events.TAG_INNER_SCROLL
  var FOCUS_VISIBLE_NOTE = "sessionheat.focusvisible"; // plumbing.events.TAG_FOCUS_VISIBLE
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
      still = !(e.type === FULL || e.type === META || isNote(e, SCROLL_NOTE) || isNote(e, IMAGE_LOAD));
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

  // --- scroll bookkeeping ------------------------------------------------------------------------
  var scrolls = new Map(); // node id -> {x, y}: where each scroller should be at the cut
  var stated = new Map(); // node id -> time of the recorder's last scroll note for it (see cast)
  var applyScroll = rrweb.Replayer.prototype.applyScroll.bind(replayer); // not a previous driver's
  replayer.applyScroll = function (d) { // noted now, applied at the cut (see restoreScrolls)
    scrolls.set(d.id, { x: d.x, y: d.y });
  };

  function collectSnapshotScrolls(node) {
    var a = node.attributes;
    if (a && (a.rr_scrollLeft || a.rr_scrollTop)) {
      scrolls.set(node.id, { x: a.rr_scrollLeft || 0, y: a.rr_scrollTop || 0 });
    }
    (node.childNodes || []).forEach(collectSnapshotScrolls);
  }

  function restoreScrolls(overrides, at) {
    scrolls.forEach(function (pos, id) {
      var o = overrides && overrides[id] && !(stated.get(id) >= at) && overrides[id];
      applyScroll({ id: id, x: o ? o.x : pos.x, y: o ? o.y : pos.y }, true);
    });
  }

  // Focus and blur events met while catching up, applied at the cut by applyFocus, and whether
  // each node's last focus showed a ring (the recorder's notes; none in older recordings).
  var focusEvents = [];
  var focusShown = new Map();
  // Input events met while catching up, by node id: a field's value and checked state at the cut
  // are those its last input event set (every key typed is an event, each a style change).
  var inputEvents = new Map();

  function applyInputs() {
    if (!inputEvents.size) return;
    var last = Array.from(inputEvents.values()); // in the order of each node's last event
    inputEvents = new Map();
    last.sort(function (a, b) { return a.index - b.index; }); // radio groups: later checks win
    last.forEach(function (item) { cast(item.event); });
  }

  // Images still on their way. The recorder notes when each image of a page first arrived
  // (IMAGE_LOAD); before that the visitor's page had no picture there and no size from it, while
  // the replay has it at once (from the asset cache). Until its moment an image is held: shown as
  // an empty picture of no size, which lays out exactly as a loading image does (no alt text, no
  // size of its own; width and height attributes and CSS still apply), with its own attributes
  // untouched for whoever reads them.
  var HELD_CONTENT = 'url("data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%220%22 height=%220%22/%3E")';
  var arrivals = new Map(); // full snapshot index -> [{id, index}]: first arrival of each image in that page
  events.forEach(function (e, index) {
    if (!isNote(e, IMAGE_LOAD) || !e.data.payload) return;
    var seg = segmentOf(index), list = arrivals.get(seg);
    if (!list) arrivals.set(seg, list = []);
    if (!list.some(function (a) { return a.id === e.data.payload.id; })) list.push({ id: e.data.payload.id, index: index });
  });
  var held = new Map(); // node id -> {node, style: its style attribute before}

  function holdLateImages(cut) { // after the events up to `cut` are applied
    var list = arrivals.get(state.seg);
    if (!list) return;
    for (var k = 0; k < list.length; k++) {
      var a = list[k], h = held.get(a.id);
      if (a.index <= cut) { if (h) unhold(a.id); continue; }
      var node = replayer.getMirror().getNode(a.id);
      if (!node || node.tagName !== "IMG") continue;
      // No source yet (a lazy image whose script has not set one): nothing is on its way, and the
      // visitor's page showed what the replay shows, the alt text.
      if (!node.getAttribute("src") && !node.getAttribute("srcset")) { if (h) unhold(a.id); continue; }
      if (h && h.node === node && node.style.getPropertyValue("content") === HELD_CONTENT) continue;
      // Not held yet, or the page rewrote its style attribute meanwhile: hold it (again).
      held.set(a.id, { node: node, style: node.getAttribute("style") });
      node.style.setProperty("content", HELD_CONTENT, "important");
    }
  }

  function unhold(id) {
    var h = held.get(id);
    held.delete(id);
    if (h.node.style.getPropertyValue("content") !== HELD_CONTENT) return; // the page replaced it
    h.node.style.removeProperty("content");
    if (h.style === null && !h.node.style.length) h.node.removeAttribute("style");
  }

  // focus() cost about twice a layout of the page (0.8 ms per click on the demo's product page),
  // and a hover hit test more than one; most pages style focus and hover with colours and
  // outlines only, which move no box. Measuring needs them only where such a rule can move one.
  var PAINT_ONLY = /^(color|background(-.*)?|border(-(top|right|bottom|left|block|inline)(-(start|end))?)?-color|outline(-.*)?|box-shadow|text-shadow|text-decoration(-.*)?|text-emphasis(-.*)?|opacity|cursor|caret-color|accent-color|fill(-.*)?|stroke(-.*)?|filter|transition(-.*)?|-webkit-tap-highlight-color|-webkit-text-fill-color|z-index)$/;
  var PSEUDO = { focus: /:focus/, hover: /:hover/ }; // rrweb's ".\:hover" copies match too
  var sheetVerdicts = new WeakMap(); // stylesheet -> {rules: count when checked, focus, hover}
  var textVerdicts = new Map(); // the CSS text of a <style> -> the same: pages rebuilt share them

  function scanRules(rules, within, found) { // sets found[pseudo] where a rule can move a box
    for (var k = 0; k < rules.length; k++) {
      var rule = rules[k], inside = {};
      Object.keys(PSEUDO).forEach(function (name) {
        inside[name] = within[name] || (rule.selectorText !== undefined && PSEUDO[name].test(rule.selectorText));
      });
      if (rule.style) {
        for (var j = 0; j < rule.style.length; j++) {
          if (PAINT_ONLY.test(rule.style[j])) continue;
          Object.keys(PSEUDO).forEach(function (name) { if (inside[name]) found[name] = true; });
          break;
        }
      }
      if (rule.cssRules) scanRules(rule.cssRules, inside, found); // @media, @supports, nesting
    }
    return found;
  }

  function movesBoxes(pseudo) { // can a rule of the replayed documents with `pseudo` move a box?
    return documents().some(function (d) {
      for (var k = 0; k < d.styleSheets.length; k++) {
        var sheet = d.styleSheets[k], rules;
        try { rules = sheet.cssRules; } catch (e) { return true; } // unreadable: assume it can
        var known = sheetVerdicts.get(sheet);
        if (!known || known.rules !== rules.length) {
          var owner = sheet.ownerNode, text = owner && owner.tagName === "STYLE" ? owner.textContent : null;
          known = text && textVerdicts.get(text);
          if (!known || known.rules !== rules.length) {
            known = scanRules(rules, {}, { rules: rules.length });
            if (text) textVerdicts.set(text, known);
          }
          sheetVerdicts.set(sheet, known);
        }
        if (known[pseudo]) return true;
      }
      return false;
    });
  }

  // `layoutOnly`: the caller measures boxes and will not look at the pixels, so focus is applied
  // only where it can change a box; otherwise the events wait (and are applied once it can).
  function applyFocus(layoutOnly) {
    // Only the last focus and the blurs after it can show at the cut: focusing an element blurs
    // whatever had focus before. With no focus among them, every blur counts.
    var start = 0;
    for (var k = focusEvents.length - 1; k >= 0; k--) {
      if (focusEvents[k].data.type === FOCUS) { start = k; break; }
    }
    focusEvents = focusEvents.slice(start);
    if (!focusEvents.length || (layoutOnly && !movesBoxes("focus"))) return false;
    var active = doc() && doc().activeElement, changed = false;
    for (k = 0; k < focusEvents.length; k++) {
      var e = focusEvents[k], node = replayer.getMirror().getNode(e.data.id);
      if (e.data.type === FOCUS && node === active) continue; // focused already: nothing to pay
      if (e.data.type === BLUR && node && node !== active && !(node.contains && node.contains(active))) continue;
      if (e.data.type === FOCUS && node && node.focus && focusShown.has(e.data.id)) {
        node.focus({ preventScroll: true, focusVisible: focusShown.get(e.data.id) });
      } else cast(e);
      active = doc() && doc().activeElement;
      changed = true;
    }
    focusEvents = [];
    return changed;
  }

  // Whether something may have started loading since the last settle found nothing on its way:
  // only a new page, new nodes, changed sources and style sheets can start a load, and asking
  // every image, style sheet and font of the page at every moment costs more than most moments.
  var mayLoad = true;
  var MUTATION = 0, STYLE_RULE = 8, FONT_EVENT = 10, STYLE_DECLARATION = 13, ADOPTED_STYLES = 15;
  var LOADING_ATTRIBUTE = /^(src|srcset|sizes|href|rel|media|type|loading)$/;

  function mayStartLoads(e) {
    if (e.type === FULL || e.type === META || isNote(e, SCROLL_NOTE) || isNote(e, INNER_SCROLL_NOTE)) return true;
    if (e.type !== INCR) return false;
    var d = e.data, s = d.source;
    if (s === SCROLL || s === RESIZE) return true; // natively lazy images come into view
    if (s === STYLE_RULE || s === FONT_EVENT || s === STYLE_DECLARATION || s === ADOPTED_STYLES) return true;
    if (s !== MUTATION) return false;
    if (d.adds && d.adds.length) return true;
    return (d.attributes || []).some(function (a) {
      for (var name in a.attributes) if (LOADING_ATTRIBUTE.test(name)) return true;
      return false;
    });
  }

  // --- applying events -------------------------------------------------------------------------
  // `opened`: the frame holds a document rrweb has opened (see rebuildFrom).
  var state = { seg: -1, applied: -1, errors: 0, rebuilds: 0, opened: !!options.replayer,
                ms: { apply: 0, settle: 0, measure: 0 } };

  function cast(e) {
    try {
      if (isNote(e, SCROLL_NOTE) || isNote(e, INNER_SCROLL_NOTE)) {
        // The recorder's statement of where the window (or a container) really was when a click
        // outran `scroll`: exact at that moment, so no later emission's guess overrides it then.
        var p = e.data.payload, id = isNote(e, SCROLL_NOTE) ? replayer.getMirror().getId(doc()) : p.id;
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
      else if (isNote(events[k], FOCUS_VISIBLE_NOTE)) {
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

  // --- settling ----------------------------------------------------------------------------------
  function doc() { return iframe.contentDocument; }
  function win() { return iframe.contentWindow; }

  function documents() { // the replayed document and every same-origin iframe document in it
    var out = [], stack = [doc()];
    while (stack.length) {
      var d = stack.pop();
      if (!d) continue;
      out.push(d);
      var frames = d.getElementsByTagName("iframe"); // live, kept by the document: asked per moment
      for (var k = 0; k < frames.length; k++) {
        try { if (frames[k].contentDocument) stack.push(frames[k].contentDocument); } catch (e) { /* cross-origin */ }
      }
    }
    return out;
  }

  // How long to wait for resources. Every request of the replay is answered by our network guard,
  // which gives up on an origin after its own fetch timeout: waiting at least that long ends only
  // when each resource has loaded or failed. A shorter limit measured pages whose images were still
  // on their way whenever the machine was slow (boxes 100+ px off). Natively lazy images that the
  // browser has not asked for yet may never load: those get the short limit.
  var RESOURCE_TIMEOUT_MS = options.resourceTimeoutMs || 12000, LAZY_TIMEOUT_MS = 3000;

  function pending() { // promises for whatever still changes layout when it arrives
    var waits = [];
    waits.eager = false;
    documents().forEach(function (d) {
      d.querySelectorAll("img").forEach(function (img) {
        if (!img.complete && (img.currentSrc || img.getAttribute("src"))) {
          if (img.loading !== "lazy") waits.eager = true;
          waits.push(new Promise(function (resolve) {
            img.addEventListener("load", resolve, { once: true });
            img.addEventListener("error", resolve, { once: true });
          }));
        }
      });
      d.querySelectorAll("link[rel~=stylesheet]").forEach(function (link) {
        if (!link.sheet) {
          waits.eager = true;
          waits.push(new Promise(function (resolve) {
            link.addEventListener("load", resolve, { once: true });
            link.addEventListener("error", resolve, { once: true });
          }));
        }
      });
      // Web fonts: a rebuilt stylesheet makes new font faces, which load only once layout asks
      // for them, and even from memory the swap comes a task later. Load every face now.
      if (d.fonts) d.fonts.forEach(function (face) {
        if (face.status === "unloaded" || face.status === "loading") waits.eager = true;
        if (face.status === "unloaded") waits.push(face.load().catch(function () {}));
        else if (face.status === "loading") waits.push(face.loaded.catch(function () {}));
      });
    });
    return waits;
  }

  function finishedRequests() { // resources the replayed document has received so far
    var n = 0;
    documents().forEach(function (d) {
      try { n += d.defaultView.performance.getEntriesByType("resource").length; } catch (e) { /* gone */ }
    });
    return n;
  }

  // Waits until nothing is pending, or until the limit passes with nothing arriving at all: the
  // guard answers requests one after another, so a page with many slow assets (layout-relevant or
  // not) progresses in steps, each within the guard's own timeout.
  function waitResources(timeoutMs) {
    var start = Date.now(), last = Infinity, received = -1;
    function round() {
      var waits = pending();
      if (!waits.length) return Promise.resolve(true);
      var now = Date.now(), got = finishedRequests();
      if (received < 0) received = got;
      if (waits.length < last || got > received) start = now; // progress: the limit starts again
      last = waits.length;
      received = got;
      var left = start + (timeoutMs || (waits.eager ? RESOURCE_TIMEOUT_MS : LAZY_TIMEOUT_MS)) - now;
      if (left <= 0) return Promise.resolve(false);
      var timer, tick = new Promise(function (resolve) { timer = setTimeout(resolve, Math.min(left, 250)); });
      return Promise.race([Promise.race(waits), tick]).then(function () { clearTimeout(timer); return round(); });
    }
    return round();
  }

  function pointerAt(t) { // the last recorded pointer position in this page at or before t
    var k = upperBound(pointer, t, function (p) { return p.t; }) - 1;
    var pageStart = times[state.seg] - 1000; // rrweb emits positions up to 500 ms after the fact
    for (; k >= 0 && pointer[k].t >= pageStart; k--) {
      if (pointer[k].seg === state.seg) return pointer[k];
    }
    return null;
  }

  // Puts rrweb's hover class on target and its ancestors, touching only elements whose state
  // changes. rrweb's own hoverElements takes the class off every hovered element and puts it
  // back, and each class change on <html> or <body> makes the browser recheck styles below them.
  function hover(target) { // whether anything changed
    if (!target) return false;
    var chain = new Set(), changed = false;
    for (var el = target; el; el = el.parentElement) chain.add(el);
    var last = replayer.lastHoveredRootNode || doc();
    if (last && last.querySelectorAll) {
      last.querySelectorAll(".\\:hover").forEach(function (e) {
        if (!chain.has(e)) { e.classList.remove(":hover"); changed = true; }
      });
    }
    chain.forEach(function (e) {
      if (e.classList && !e.classList.contains(":hover")) { e.classList.add(":hover"); changed = true; }
    });
    replayer.lastHoveredRootNode = target.getRootNode();
    return changed;
  }

  // Hovers what the pointer was over at the cut. Returns {pointer, hitTest}: hitTest is true when
  // the page may have moved under a resting pointer since rrweb recorded its target, so the target
  // must come from a hit test on the settled layout (`hoverByHitTest`).
  function applyHover(t, cut) {
    var p = pointerAt(t);
    if (!p) {
      var hovered = doc().querySelectorAll(".\\:hover");
      hovered.forEach(function (el) { el.classList.remove(":hover"); });
      return { pointer: null, hitTest: false, changed: hovered.length > 0 };
    }
    var after = firstAfter(p.t);
    var still = after > cut || moved[cut] === (after > 0 ? moved[after - 1] : 0);
    var recorded = replayer.getMirror().getNode(p.id);
    var element = recorded && (recorded.nodeType === 1 ? recorded : recorded.parentElement);
    if (still && element && element.isConnected) return { pointer: p, hitTest: false, changed: hover(element) };
    return { pointer: p, hitTest: true, changed: false };
  }

  function hoverByHitTest(p) {
    var mirror = replayer.getMirror();
    var d = doc();
    var recorded = mirror.getNode(p.id);
    var hit = null;
    var owner = recorded && recorded.ownerDocument;
    if (!owner || owner === d) hit = d.elementFromPoint(p.x, p.y); // what the layout now puts there
    return hover(hit || (recorded && recorded.nodeType === 1 ? recorded : recorded && recorded.parentElement));
  }

  // What the last settle left: the events up to it that could move anything (see `moved`), and
  // whether scroll hints overrode the positions noted.
  var settled = { moved: -1, overridden: false };

  // `skip` names fixes to leave out (for measuring what each one is worth): "scroll", "hover",
  // "focus", "animations", "resources". `layoutOnly`: the caller measures boxes, not pixels.
  // `at`: the moment in epoch ms, at or after the cut's event (default: that event's time).
  function settle(cut, overrides, timeoutMs, skip, layoutOnly, at) {
    skip = skip || [];
    var on = function (name) { return skip.indexOf(name) < 0; };
    var hinted = !!overrides && Object.keys(overrides).length > 0;
    // A scroll note of this interaction (within one rrweb scroll sampling window, 100 ms, before the
    // cut) says where a scroller was; a sampled emission after the cut only guesses.
    var noteSince = events[cut].timestamp - 100;
    // Hover and focus first: the layout that restoring the scroll positions forces is then the
    // only one they all pay for. When measuring, they are left alone on pages where they only
    // paint. Scrolls are applied again only after something that can have changed how far the
    // page scrolls (a resource arriving, hover, a finished transition); and none of it when
    // nothing has changed since the last settle (a pointer moving over a still page).
    var none = { pointer: null, hitTest: false, changed: false };
    var hovered = on("hover") && !(layoutOnly && !movesBoxes("hover")) ? applyHover(events[cut].timestamp, cut) : none;
    var focused = on("focus") ? applyFocus(layoutOnly) : (focusEvents = [], false);
    var changed = moved[cut] !== settled.moved || hovered.changed || focused || hinted || settled.overridden;
    settled = { moved: moved[cut], overridden: hinted };
    if (changed && on("scroll")) restoreScrolls(overrides, noteSince);
    var waiting = on("resources") && mayLoad;
    var loaded = waiting ? waitResources(timeoutMs) : Promise.resolve(true);
    return loaded.then(function (complete) {
      if (waiting) mayLoad = !complete; // still on its way: ask again next time
      var again = waiting; // the layout may have changed since the scrolls were applied
      if (hovered.hitTest) { // a hit test on the settled page
        if (again && on("scroll")) restoreScrolls(overrides, noteSince);
        again = hoverByHitTest(hovered.pointer);
      }
      // (Animations set mid-way at the last moment are set again: this one's time differs.)
      if ((changed || waiting || again || moments.timed()) && on("animations")
          && moments.animations(cut, Math.max(at || 0, events[cut].timestamp))) again = true;
      if (again && on("scroll")) restoreScrolls(overrides, noteSince);
      var p = hovered.pointer;
      return { complete: complete, pointer: p ? [p.x, p.y] : null };
    });
  }

  // --- measuring ---------------------------------------------------------------------------------
  function scrollOf(w) {
    return [w.scrollX || 0, w.scrollY || 0];
  }

  function rectOf(node) {
    if (!node) return null;
    if (node.nodeType === 9) {
      var se = node.scrollingElement || node.documentElement;
      return { left: -scrollOf(node.defaultView)[0], top: -scrollOf(node.defaultView)[1],
               width: se.scrollWidth, height: se.scrollHeight };
    }
    if (node.nodeType === 1) return node.getBoundingClientRect();
    if (node.nodeType === 3 && node.ownerDocument) {
      var range = node.ownerDocument.createRange();
      range.selectNodeContents(node);
      return range.getBoundingClientRect();
    }
    return null;
  }

  // Where the node is, in document px of the replayed page, and what makes that doubtful.
  function boxOf(id) {
    var node = replayer.getMirror().getNode(id);
    if (!node) return { box: null, problem: "node " + id + " is not in the page at this moment" };
    var rect = rectOf(node);
    if (!rect) return { box: null, problem: "node " + id + " has no box" };
    var x = rect.left, y = rect.top;
    var w = node.ownerDocument ? node.ownerDocument.defaultView : null;
    while (w && w !== win() && w.frameElement) { // same-origin iframes: into top-document px
      var fe = w.frameElement, fr = fe.getBoundingClientRect();
      x += fr.left + fe.clientLeft;
      y += fr.top + fe.clientTop;
      w = w.parent;
    }
    var s = scrollOf(win());
    var box = [x + s[0], y + s[1], rect.width, rect.height];
    var problem = null;
    if (node.nodeType === 1) {
      if (node.isConnected === false) problem = "node " + id + " is detached";
      else if (node.ownerDocument.getElementsByTagName("canvas").length && node.closest("canvas")) {
        problem = canvasProblem(node.closest("canvas"));
      }
      else if (node.tagName === "IFRAME" && !node.contentDocument) problem = "cross-origin iframe content is not recorded";
      else if (node.tagName === "IMG" && node.complete && !node.naturalWidth && node.getAttribute("src")) {
        problem = "image did not load: " + node.getAttribute("src");
      }
    }
    return { box: box, problem: problem, tag: node.nodeType === 1 ? node.tagName.toLowerCase() : "#" + node.nodeName };
  }

  function layout() {
    var d = doc(), se = d.scrollingElement || d.documentElement;
    return {
      doc: [se ? se.scrollWidth : 0, se ? se.scrollHeight : 0],
      viewport: [Number(iframe.getAttribute("width")) || iframe.clientWidth, Number(iframe.getAttribute("height")) || iframe.clientHeight],
      scroll: scrollOf(win()),
    };
  }

  function unfaithful() { // what this replay cannot show as the visitor saw it
    var out = [], mirror = replayer.getMirror();
    unfaithfulCanvases().forEach(function (c) {
      var why = canvasProblem(c);
      if (why) out.push({ kind: "canvas", id: mirror.getId(c), detail: why });
    });
    documents().forEach(function (d) {
      d.querySelectorAll("iframe").forEach(function (f) {
        var inner = null;
        try { inner = f.contentDocument; } catch (e) { inner = null; }
        if (!inner || !inner.documentElement || !inner.documentElement.childElementCount) {
          out.push({ kind: "iframe", id: mirror.getId(f), detail: "iframe content was not recorded (cross-origin?)" });
        }
      });
      d.querySelectorAll("img").forEach(function (img) {
        if (img.complete && !img.naturalWidth && img.getAttribute("src")) {
          out.push({ kind: "image", id: mirror.getId(img), detail: "did not load: " + img.getAttribute("src") });
        }
      });
    });
    return out;
  }

  // --- canvas ------------------------------------------------------------------------------------
  function layoutCanvases(cut) { // canvases sized as the live page's were (see canvas.js)
    if (canvases) canvases.layout(cut, replayer.getMirror());
  }

  function paintCanvases(cut) { // the recorded pictures of the moment on the replayed canvases
    return canvases ? canvases.paint(cut, replayer.getMirror()).catch(function () {}) : Promise.resolve();
  }

  function unfaithfulCanvases() { // every canvas of the moment, those in shadow roots too
    var found = canvases ? canvases.canvasesAt(state.applied, replayer.getMirror()) : [];
    documents().forEach(function (d) {
      d.querySelectorAll("canvas").forEach(function (c) { if (found.indexOf(c) < 0) found.push(c); });
    });
    return found;
  }

  function canvasProblem(canvas) {
    return canvases ? canvases.problem(canvas, state.applied, replayer.getMirror()) : "canvas drawing is not recorded";
  }

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
