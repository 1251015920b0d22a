// Which state of the page an element was in at a moment: the open overlay holding it (a dialog,
// popover, floating menu or listbox, a drawer) and the scrolling container holding it. Evaluated
// as an expression: (function (node, elementKey) {...}) -> {overlay, container, scroller}, where
//   overlay   {key, label, kind} of the nearest open overlay around the node, or null;
//   container {key, label, axis} of the nearest element around it whose content scrolls, or null;
//   scroller  when the node itself is such a container: how far into its content the visitor
//             had scrolled ({key, depth, content} in px of its content, and `anchor`: the element
//             at its visible bottom edge with rel_y inside it)
//             so that content of another length still reads right (as view_anchor.js does for
//             the page), or null.
// The heatmap index asks this at each interaction's moment (see heatmap/index.py); the heatmap
// then draws hits of a state on a photograph of the page in that state (heatmap/states.py).
(function pageState(node, elementKey) {
  "use strict";
  var el = node && node.nodeType !== 1 ? node.parentElement : node;
  if (!el) return { overlay: null, container: null, scroller: null };
  var doc = el.ownerDocument, view = doc.defaultView;
  var vw = view.innerWidth, vh = view.innerHeight;
  var FLOATING_ROLES = { menu: "menu", listbox: "listbox", tooltip: "popover" };

  function up(e) { // parent, stepping out of shadow roots to their host
    if (e.parentElement) return e.parentElement;
    var root = e.getRootNode && e.getRootNode();
    return root && root.host ? root.host : null;
  }
  function matches(e, selector) { try { return e.matches(selector); } catch (err) { return false; } }
  function text(e) { return (e ? e.innerText || e.textContent || "" : "").replace(/\s+/g, " ").trim(); }
  function labelOf(e) {
    var own = e.getAttribute("aria-label");
    if (own) return own.trim().slice(0, 60);
    var by = e.getAttribute("aria-labelledby");
    if (by) {
      var named = by.split(/\s+/).map(function (id) { return text(doc.getElementById(id)); }).join(" ").trim();
      if (named) return named.slice(0, 60);
    }
    var heading = e.querySelector("h1,h2,h3,h4,h5,h6,legend,[role=heading]");
    if (heading && text(heading)) return text(heading).slice(0, 60);
    var t = text(e);
    return t.length > 40 ? t.slice(0, 39) + "\u2026" : t;
  }
  function overlayKind(e) {
    var cs = view.getComputedStyle(e);
    if (e.tagName === "DIALOG") return e.hasAttribute("open") ? "dialog" : null;
    // A popover: open if anything inside it was hit, whether or not the replay shows it open
    // (rrweb does not record the top layer's popovers).
    if (e.hasAttribute("popover")) return "popover";
    if (e.getAttribute("aria-modal") === "true") return "dialog";
    var role = (e.getAttribute("role") || "").toLowerCase();
    if (role === "dialog" || role === "alertdialog") return "dialog";
    var floating = cs.position === "fixed" || cs.position === "absolute";
    if (FLOATING_ROLES[role] && floating) return FLOATING_ROLES[role];
    if (cs.position === "fixed") { // a drawer: tall, narrower than the page, against a side
      var r = e.getBoundingClientRect();
      if (r.height >= 0.6 * vh && r.width <= 0.85 * vw && (r.left <= 1 || r.right >= vw - 1)) return "drawer";
    }
    return null;
  }
  function scrolls(e) { // "y", "x" or null: its own content overflows and may be scrolled
    if (e === doc.body || e === doc.documentElement || e === doc.scrollingElement) return null;
    var cs = view.getComputedStyle(e);
    var open = /^(auto|scroll|overlay)$/;
    if (open.test(cs.overflowY) && e.scrollHeight > e.clientHeight + 1) return "y";
    if (open.test(cs.overflowX) && e.scrollWidth > e.clientWidth + 1) return "x";
    return null;
  }

  // The nearest scrolling container counts only up to the overlay (a list inside a dialog, or a
  // dropdown listbox that scrolls itself): a page area that scrolls around an overlay is not
  // what the overlay's hits are placed against.
  var overlay = null, container = null;
  for (var e = el; e && e.nodeType === 1 && !overlay; e = up(e)) {
    if (!container && e !== el) {
      var axis = scrolls(e);
      if (axis) container = { key: elementKey(e).key, label: labelOf(e), axis: axis };
    }
    var kind = overlayKind(e);
    if (kind) overlay = { key: elementKey(e).key, label: labelOf(e), kind: kind };
  }


  var scroller = null;
  var own = scrolls(el);
  if (own === "y") { // where its visible bottom edge was, named by the element there
    var box = el.getBoundingClientRect();
    var bottom = box.top + el.clientTop + el.clientHeight - 2;
    var x = box.left + el.clientLeft + Math.min(el.clientWidth / 2, 40);
    var stack = doc.elementsFromPoint(x, Math.min(bottom, vh - 1));
    scroller = { key: elementKey(el).key, anchor: null, axis: own,
                 depth: el.scrollTop + el.clientHeight, content: el.scrollHeight };
    for (var i = 0; i < stack.length; i++) {
      if (stack[i] === el || !el.contains(stack[i])) continue;
      var found = elementKey(stack[i]);
      var r2 = stack[i].getBoundingClientRect();
      if (!found || !r2.height) continue;
      scroller.anchor = { key: found.key, label: found.label, tag: found.tag,
                          rel_y: (bottom - r2.top) / r2.height };
      break;
    }
  }
  return { overlay: overlay, container: container, scroller: scroller };
})
