// What part of the page sat at a viewport edge, named by an element rather than a pixel row.
// Evaluated as an expression: (function (doc, x, y, elementKey) {...}) with (x, y) in document px
// of `doc`; returns elementKey(landmark) plus rel_y, or null. Fixed and sticky things (a header
// that follows the visitor down) say nothing about how far down the page the visitor is, so the
// first element at that point that scrolls with the page is used.
(function viewAnchor(doc, x, y, elementKey) {
  "use strict";
  var view = doc.defaultView;
  function pinned(el) {
    for (var node = el; node && node.nodeType === 1; node = node.parentElement) {
      var position = view.getComputedStyle(node).position;
      if (position === "fixed" || position === "sticky") return true;
    }
    return false;
  }
  var cx = Math.min(Math.max(x - view.scrollX, 0), doc.documentElement.clientWidth - 1);
  var cy = Math.min(Math.max(y - view.scrollY, 0), doc.documentElement.clientHeight - 1);
  var stack = doc.elementsFromPoint(cx, cy);
  for (var i = 0; i < stack.length; i++) {
    if (pinned(stack[i])) continue;
    var found = elementKey(stack[i], { landmark: true });
    if (!found || !found.box[3]) continue;
    found.rel_y = (y - found.box[1]) / found.box[3];
    return found;
  }
  return null;
})
