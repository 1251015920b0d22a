// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// What is still loading: images held until the moment they arrived, whether anything may
// have started loading, and waiting for images, style sheets and fonts.
  // Images still on their way. The recorder notes when each image of a page first arrived
  // (TAGS.IMAGE_LOAD); before that the visitor's page had no picture there and no size from it, while
  // the replay has it at once (from the asset cache). Until its moment an image is held: shown as
  // an empty picture of no size, which lays out exactly as a loading image does (no alt text, no
  // size of its own; width and height attributes and CSS still apply), with its own attributes
  // untouched for whoever reads them.
  var HELD_CONTENT = 'url("data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%220%22 height=%220%22/%3E")';
  var arrivals = new Map(); // full snapshot index -> [{id, index}]: first arrival of each image in that page
  events.forEach(function (e, index) {
    if (!isNote(e, TAGS.IMAGE_LOAD) || !e.data.payload) return;
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


  // Whether something may have started loading since the last settle found nothing on its way:
  // only a new page, new nodes, changed sources and style sheets can start a load, and asking
  // every image, style sheet and font of the page at every moment costs more than most moments.
  var mayLoad = true;
  var MUTATION = 0, STYLE_RULE = 8, FONT_EVENT = 10, STYLE_DECLARATION = 13, ADOPTED_STYLES = 15;
  var LOADING_ATTRIBUTE = /^(src|srcset|sizes|href|rel|media|type|loading)$/;

  function mayStartLoads(e) {
    if (e.type === FULL || e.type === META || isNote(e, TAGS.SCROLL) || isNote(e, TAGS.INNER_SCROLL)) return true;
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
