// Prepares and measures one state of the page for its own photograph (heatmap/states.py).
// Evaluated as an expression: (function (doc, arg, locateKeys) {...}) with
//   arg = {op: "open", kind: "overlay" | "container", key, wanted: [{key, tag, label}]}
//     -> {found: false} when the state's element (an open dialog, a popover, a scrolling list) is
//        not shown at this moment; else {found: true, root: [x, y, w, h], boxes: [box or null per
//        wanted], visible: [w, h], doc: [w, h], label}, boxes in the full-page photograph's px (as
//        locate_keys.js measures them), each only if it lies inside the state's element.
//     A container is photographed unclipped: its whole content laid out at full size (overflow
//     visible, height auto; as wide as its content when that is wider), so an item the visitor
//     scrolled to is on the photograph, not under the clip. `visible` is the container's own visible size before that.
//     A popover the replay shows closed (rrweb does not record the top layer's popovers) is
//     opened for the photograph: hits inside it say the visitor had it open.
//   arg = {op: "close"} -> puts back what "open" changed.
(function statePhoto(doc, arg, locateKeys) {
  "use strict";
  var view = doc.defaultView;
  var MARK = "data-sessionheat-unclipped";
  var SHOWN = "data-sessionheat-shown";
  if (arg.op === "close") {
    Array.prototype.forEach.call(doc.querySelectorAll("[" + SHOWN + "]"), function (el) {
      el.removeAttribute(SHOWN);
      try { el.hidePopover(); } catch (e) { /* closed already */ }
    });
    Array.prototype.forEach.call(doc.querySelectorAll("[" + MARK + "]"), function (el) {
      var before = el.getAttribute(MARK);
      if (before === "\u0000") el.removeAttribute("style"); else el.setAttribute("style", before);
      el.removeAttribute(MARK);
    });
    return null;
  }
  var candidates;
  try { candidates = Array.prototype.slice.call(doc.querySelectorAll(arg.key)); } catch (e) { candidates = []; }
  if (arg.kind === "overlay" && candidates.length === 1 && candidates[0].hasAttribute("popover") &&
      candidates[0].showPopover && !candidates[0].matches(":popover-open")) {
    // The visitor's hits inside it say it was open; the replay cannot (rrweb does not record
    // the top layer's popovers): open it for the photograph, laid out by the page's own CSS.
    try { candidates[0].showPopover(); candidates[0].setAttribute(SHOWN, ""); } catch (e) { /* not now */ }
  }
  candidates = candidates.filter(function (el) {
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (!el.checkVisibility || el.checkVisibility({ visibilityProperty: true }));
  });
  if (candidates.length !== 1) return { found: false };
  var rootEl = candidates[0];
  var visible = [rootEl.clientWidth, rootEl.clientHeight];
  if (arg.kind === "container") {
    rootEl.setAttribute(MARK, rootEl.hasAttribute("style") ? rootEl.getAttribute("style") : "\u0000");
    var cs = view.getComputedStyle(rootEl);
    var set = function (name, value) { rootEl.style.setProperty(name, value, "important"); };
    set("overflow", "visible");
    set("height", "auto");
    set("max-height", "none");
    set("flex-shrink", "0");
    if (rootEl.scrollWidth > rootEl.clientWidth + 1) { // a row of tabs: as wide as its content
      set("width", "max-content");
      set("max-width", "none");
    }
    if ((cs.position === "absolute" || cs.position === "fixed") && cs.top !== "auto") set("bottom", "auto");
  }
  var found = locateKeys(doc, [{ key: arg.key, tag: "", label: "" }].concat(arg.wanted));
  var root = found.boxes[0];
  if (!root) { // covered or beside the page: no photograph of this state here
    if (arg.kind === "container") statePhoto(doc, { op: "close" }, locateKeys);
    return { found: false };
  }
  var inside = function (b) {
    return b && b[0] >= root[0] - 1 && b[1] >= root[1] - 1 && b[0] + b[2] <= root[0] + root[2] + 1 &&
      b[1] + b[3] <= root[1] + root[3] + 1;
  };
  return { found: true, root: root, boxes: found.boxes.slice(1).map(function (b) { return inside(b) ? b : null; }),
           visible: visible, doc: found.doc, label: labelOf(rootEl), opened: rootEl.hasAttribute(SHOWN) };
  function labelOf(el) { // what a person calls it: its accessible name, else its heading
    var name = (el.getAttribute("aria-label") || "").trim();
    var by = el.getAttribute("aria-labelledby");
    if (!name && by) {
      name = by.split(/\s+/).map(function (id) {
        var named = doc.getElementById(id);
        return named ? (named.textContent || "").trim() : "";
      }).join(" ").trim();
    }
    var heading = !name && el.querySelector("h1,h2,h3,h4,h5,h6,legend,[role=heading]");
    if (heading) name = (heading.textContent || "").trim();
    return name.replace(/\s+/g, " ").slice(0, 60);
  }
})
