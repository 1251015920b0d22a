// What a replayed page shows at one moment, for heatmap/session_diff.py: every rendered element
// that reaches into the viewport, in document order, each with a path that names it in another
// run of the same page (tag, id, classes and place among its siblings of that tag, from <body>
// down), its box in document px (rounded to `grid` px: sub-pixel layout noise is not a
// difference), its own text and what it loads. Evaluated as `(document, options) => [...]`.
(function shownElements(doc, options) {
  var grid = options.grid || 2;
  var win = doc.defaultView;
  var vw = win.innerWidth, vh = win.innerHeight;
  var sx = win.scrollX, sy = win.scrollY;
  var out = [];

  function step(el) {
    var part = el.localName;
    if (el.id) part += "#" + el.id;
    // Not the classes the replayer adds itself (":hover", where its mouse happens to be).
    var classes = (el.getAttribute("class") || "").trim().split(/\s+/)
      .filter(function (c) { return c && c.charAt(0) !== ":"; }).sort();
    if (classes.length) part += "." + classes.join(".");
    var n = 1;
    for (var s = el.previousElementSibling; s; s = s.previousElementSibling) {
      if (s.localName === el.localName) n++;
    }
    return part + ":" + n;
  }

  function ownText(el) {
    var text = "";
    for (var c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 3) text += c.data;
    return text.replace(/\s+/g, " ").trim().slice(0, 200);
  }

  function round(v) { return Math.round(v / grid) * grid; }

  (function walk(el, path) {
    for (var child = el.firstElementChild; child; child = child.nextElementSibling) {
      if (/^(script|style|template|noscript|head|meta|link)$/i.test(child.localName)) continue;
      var style = win.getComputedStyle(child);
      if (style.display === "none") continue;
      var here = path + " > " + step(child);
      var r = child.getBoundingClientRect();
      var inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;
      if (inView && style.visibility !== "hidden" && Number(style.opacity) > 0) {
        out.push({
          path: here,
          tag: child.localName,
          box: [round(r.left + sx), round(r.top + sy), round(r.width), round(r.height)],
          text: ownText(child),
          src: child.currentSrc || child.getAttribute("src") || "",
        });
      }
      walk(child, here);
    }
  })(doc.body, "body");
  return out;
})
