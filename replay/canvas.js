// sessionheat canvas replay: lays replayed canvases out as the live page did and shows the
// recorder's pictures of them (TAGS.CANVAS notes, see recorder/record.js "canvas snapshots").
// Loaded by the host page beside driver.js, which calls it. Evaluated as an expression:
//   (function (events, segmentOf) {...}) -> {layout, paint, problem, canvasesAt}
//
// The replay frame runs no scripts (its sandbox has no allow-scripts), and a document without
// scripting renders a <canvas> as its fallback content: an ordinary box, 100 % wide once the page
// says `display: block`, showing no bitmap. So, without help, every canvas replays at the wrong
// size and everything after it moves. `layout` gives each canvas the box of a replaced element of
// its width x height attributes again (a stylesheet of specificity 0, so the page's own rules
// still win), and `paint` shows the picture as the box's content-box background.
//
// A picture is emitted after it is encoded, a few ms after the moment it shows (`at`): a click's
// moment must show the picture taken at its pointerdown although that note comes after the click
// event. So a moment shows, for each canvas of its page, the last picture taken at or before it,
// wherever in the page's events its note lies.
(function sessionheatCanvasReplay(events, segmentOf) {
  "use strict";
  // A canvas is a replaced element sized by its attributes (default 300 x 150); without scripting
  // it is not, so the size is given back through size containment.
  var CANVAS_RULE = ":where(canvas) { display: inline-block; contain: size; width: max-content;"
    + " contain-intrinsic-size: calc(attr(width type(<number>), 300) * 1px) calc(attr(height type(<number>), 150) * 1px); }";

  var shots = new Map(); // full snapshot index -> Map(node id -> [{at, url, kind}] sorted by at)
  var canvasIds = new Map(); // full snapshot index -> Set of node ids of canvases in that page
  var recorded = false; // whether the recorder photographed canvases at all (it was switched on)

  function noteCanvases(node, seg) {
    if (node.type === 2 && node.tagName === "canvas") {
      var ids = canvasIds.get(seg);
      if (!ids) canvasIds.set(seg, ids = new Set());
      ids.add(node.id);
    }
    var children = node.childNodes;
    if (children) for (var k = 0; k < children.length; k++) noteCanvases(children[k], seg);
  }

  events.forEach(function (e, index) {
    if (e.type === 2 && e.data && e.data.node) noteCanvases(e.data.node, index);
    else if (e.type === 3 && e.data && e.data.source === 0 && e.data.adds) {
      var seg = segmentOf(index);
      e.data.adds.forEach(function (add) { if (add.node) noteCanvases(add.node, seg); });
    } else if (e.type === 5 && e.data && e.data.tag === TAGS.CANVAS && e.data.payload) {
      var p = e.data.payload, page = segmentOf(index);
      if (page < 0 || typeof p.id !== "number") return;
      recorded = true;
      var byId = shots.get(page);
      if (!byId) shots.set(page, byId = new Map());
      var list = byId.get(p.id);
      if (!list) byId.set(p.id, list = []);
      list.push({ at: +p.at || e.timestamp, url: typeof p.url === "string" ? p.url : null, kind: p.kind || "2d" });
    }
  });
  shots.forEach(function (byId) {
    byId.forEach(function (list) { list.sort(function (a, b) { return a.at - b.at; }); });
  });

  function shotAt(cut, id) { // the last picture of canvas `id` taken at or before the cut's moment
    var byId = shots.get(segmentOf(cut)), list = byId && byId.get(id);
    if (!list) return null;
    var t = events[cut].timestamp, found = null;
    for (var k = 0; k < list.length && list[k].at <= t; k++) found = list[k];
    return found;
  }

  function canvasesAt(cut, mirror) { // the page's canvases that are in the replayed page now
    var ids = canvasIds.get(segmentOf(cut)), out = [];
    if (ids) ids.forEach(function (id) {
      var node = mirror.getNode(id);
      if (node && node.nodeName === "CANVAS" && node.isConnected) out.push(node);
    });
    return out;
  }

  var sheets = new WeakMap(); // the frame's window -> our constructed sheet (one per window)
  function sheetFor(win) {
    var sheet = sheets.get(win);
    if (!sheet) {
      sheet = new win.CSSStyleSheet();
      sheet.replaceSync(CANVAS_RULE);
      sheets.set(win, sheet);
    }
    return sheet;
  }

  // Before anything is measured: every root holding a canvas (the document, a shadow root) adopts
  // the canvas rule; the page's own adoptions replace the list, so it is checked at every moment.
  function layout(cut, mirror) {
    canvasesAt(cut, mirror).forEach(function (canvas) {
      var root = canvas.getRootNode(), win = canvas.ownerDocument.defaultView;
      if (!win || !root.adoptedStyleSheets) return;
      var sheet = sheetFor(win), adopted = root.adoptedStyleSheets;
      if (adopted.indexOf(sheet) < 0) root.adoptedStyleSheets = [sheet].concat(Array.prototype.slice.call(adopted));
    });
  }

  var images = new Map(); // data URL -> promise of its decoding (a page's pictures are reused on seeks)
  function decoded(url) {
    var found = images.get(url);
    if (found) return found;
    var img = new Image();
    img.src = url;
    found = img.decode().then(function () { return true; }, function () { return false; });
    if (images.size > 200) images.clear();
    images.set(url, found);
    return found;
  }

  var PICTURE = ["background-image", "background-size", "background-origin", "background-clip",
                 "background-repeat", "background-position"];
  function show(canvas, url) {
    var s = canvas.style;
    if (!url) { PICTURE.forEach(function (p) { s.removeProperty(p); }); return; }
    s.setProperty("background-image", 'url("' + url + '")');
    s.setProperty("background-size", "100% 100%");
    s.setProperty("background-origin", "content-box");
    s.setProperty("background-clip", "content-box");
    s.setProperty("background-repeat", "no-repeat");
    s.setProperty("background-position", "0 0");
  }

  // Shows each canvas's picture for the moment `cut`; resolves once every picture is decoded.
  function paint(cut, mirror) {
    if (!recorded) return Promise.resolve();
    return Promise.all(canvasesAt(cut, mirror).map(function (canvas) {
      var shot = shotAt(cut, mirror.getId(canvas)), url = shot && shot.url;
      var now = canvas.style.getPropertyValue("background-image");
      if (url ? now === 'url("' + url + '")' : !now) return null;
      if (!url) { show(canvas, null); return null; }
      return decoded(url).then(function (ok) { if (ok) show(canvas, url); });
    }));
  }

  // Why this canvas at this moment does not show what the visitor saw, or null.
  function problem(canvas, cut, mirror) {
    if (!recorded) return "canvas drawing is not recorded (canvas capture was off)";
    var shot = shotAt(cut, mirror.getId(canvas));
    if (shot && !shot.url) return shot.kind + " canvas drawing is not recorded";
    return null; // its picture, or blank as it was (every canvas drawn on is photographed)
  }

  return { layout: layout, paint: paint, problem: problem, canvasesAt: canvasesAt };
})
