// Finds elements by key in a reference layout. Evaluated as an expression:
// (function (doc, wanted) {...}) with wanted = [{key, tag, label, scope}], returning
// {boxes: [[x, y, w, h] (document px) or null per entry], doc: [w, h], blocked: bool}.
// A key may cross shadow roots ("host key >>> key inside its shadow root", see element_key.js).
// The key is tried first; when it matches several elements the one with the same visible label
// inside the same keyed ancestor (`scope`, the operation or card it was recorded in) wins; when it
// matches none, an element of the same tag with the same label inside that ancestor stands in (a
// block moved under another parent). With the ancestor absent, nothing stands in: a "Try it out"
// of an operation the reference does not show is not on this layout, whatever other "Try it out"
// is. Without a scope (nothing keyed above the element) the document is the ancestor. A key that
// is only a name, aria-label or href (every card may have its "Remove") must match inside that
// ancestor too; an id or a test attribute names its element wherever it went.
//
// A box is given only for an element the full-page photograph of this moment really shows:
//   - displayed, not `visibility: hidden` or fully transparent (a closed off-canvas drawer still
//     has a box, out beside the page), not clipped away by a scrolling or clipping ancestor (an
//     item scrolled out of its list), and overlapping the document;
//   - not under an open modal dialog or a fixed backdrop that covers the viewport (the page behind
//     is dimmed out and not what anyone could click);
//   - measured as the photograph has it: that is taken with the frame as large as the document,
//     so a sticky header is at the top of the page, not wherever the visitor had scrolled, and a
//     bar fixed to the viewport's bottom is at the document's bottom (measured here the same
//     way, then the frame and its scroll put back).
(function locateKeys(doc, wanted) {
  "use strict";
  var view = doc.defaultView;
  var root = doc.documentElement;
  var SHADOW = " >>> "; // element_key.js's separator between a host's key and a key in its shadow root
  function hostOf(el) { var r = el.getRootNode(); return r && r.host ? r.host : null; }
  /*@INCLUDE flat_text.js@*/
  function label(el) {
    var plain = el.getRootNode() === doc && !el.shadowRoot;
    return ((plain && el.innerText) || flatText(el)).replace(/\s+/g, " ").trim();
  }
  function sameLabel(el, text) {
    if (!text) return false;
    var l = label(el);
    return l === text || (text.slice(-1) === "\u2026" && l.indexOf(text.slice(0, -1)) === 0);
  }
  function select(root, selector) {
    try { return Array.prototype.slice.call(root.querySelectorAll(selector)); } catch (e) { return []; }
  }
  function all(key) { // elements matching a key, down through the shadow roots it names
    var parts = key.split(SHADOW), roots = [doc], found = [];
    for (var i = 0; i < parts.length; i++) {
      found = [];
      for (var k = 0; k < roots.length; k++) found = found.concat(select(roots[k], parts[i]));
      roots = found.map(function (host) { return host.shadowRoot; }).filter(Boolean);
    }
    return found;
  }
  // A key that is an element's own name or aria-label, or a link's href (no path, no id or test
  // attribute): unique where it was recorded, yet every card may have one ("Remove", name="qty").
  // Such a match counts only inside the keyed ancestor the hit was recorded in.
  function sharedName(key) {
    var own = key.split(SHADOW).pop();
    return own.indexOf(" > ") < 0 && /^[\w-]+\[(name|aria-label|href\$)=/.test(own);
  }
  function deepAll(root, selector) { // in `root` and every open shadow root under it
    var found = select(root, selector);
    var hosts = [root].concat(select(root, "*"));
    hosts.forEach(function (h) { if (h.shadowRoot) found = found.concat(deepAll(h.shadowRoot, selector)); });
    return found;
  }
  function inside(ancestor, el) { // across shadow roots: a host holds what its shadow root holds
    for (var n = el; n; n = n.parentElement || hostOf(n)) if (n === ancestor) return true;
    return ancestor === doc;
  }
  function deepest(x, y) { // the element at a point, inside shadow roots (elementFromPoint stops at hosts)
    var hit = doc.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {
      var inner = hit.shadowRoot.elementFromPoint(x, y);
      if (!inner || inner === hit) break;
      hit = inner;
    }
    return hit;
  }
  function shown(el) {
    var r = el.getBoundingClientRect();
    if (!r.width || !r.height) return false; // not displayed, or nothing of it to see (an image on its way)
    if (clippedOut(el, r)) return false;
    if (el.checkVisibility) return el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    return view.getComputedStyle(el).visibility === "visible";
  }
  // Whether an ancestor that clips its content (a scrolling list, a carousel) hides the element's
  // middle: an item scrolled out of its list has a box, below the list, where the photograph
  // shows something else. Fixed and absolutely positioned elements escape the ancestors between
  // them and their containing block.
  function clippedOut(el, r) {
    var cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    var escape = view.getComputedStyle(el).position;
    for (var a = el.parentElement; a && a !== doc.body && a !== root; a = a.parentElement) {
      if (escape === "fixed") return false;
      var cs = view.getComputedStyle(a);
      var positioned = cs.position !== "static";
      if (escape !== "absolute" || positioned) {
        if (cs.overflowX !== "visible" || cs.overflowY !== "visible") {
          var b = a.getBoundingClientRect();
          var x0 = b.left + a.clientLeft, y0 = b.top + a.clientTop;
          var clipX = cs.overflowX !== "visible", clipY = cs.overflowY !== "visible";
          if ((clipX && (cx < x0 || cx > x0 + a.clientWidth)) || (clipY && (cy < y0 || cy > y0 + a.clientHeight))) {
            return true;
          }
        }
        escape = cs.position === "fixed" || cs.position === "absolute" ? cs.position : escape === "absolute" ? "" : escape;
      }
    }
    return false;
  }
  function docSize() { // as the full-page screenshot sizes the frame: the document, at least the viewport
    var se = doc.scrollingElement || root;
    return [Math.max(se.scrollWidth, view.innerWidth), Math.max(se.scrollHeight, view.innerHeight)];
  }

  function opaque(el) { // paints something: a tinted or blurred layer, not an invisible wrapper
    var cs = view.getComputedStyle(el);
    var alpha = /rgba?\(([^)]*)\)/.exec(cs.backgroundColor);
    var parts = alpha ? alpha[1].split(/[,\s/]+/).filter(Boolean) : [];
    return (parts.length === 4 ? parseFloat(parts[3]) > 0 : !!alpha) || cs.backgroundImage !== "none" ||
      (cs.backdropFilter && cs.backdropFilter !== "none");
  }

  // What covers the page at this moment: an open modal dialog, or a fixed layer spanning the
  // viewport (a drawer's backdrop). Elements outside it are under it.
  var modal = null;
  try { modal = doc.querySelector(":modal"); } catch (e) { modal = null; }
  if (modal && !shown(modal)) modal = null; // closed: a replay may leave it in the top layer, hidden
  var vw = view.innerWidth, vh = view.innerHeight;
  var backdrop = null;
  var stack = doc.elementsFromPoint ? doc.elementsFromPoint(vw / 2, vh / 2) : [];
  for (var i = 0; i < stack.length && !backdrop; i++) {
    var layer = stack[i];
    if (layer === root || layer === doc.body || view.getComputedStyle(layer).position !== "fixed") continue;
    var rb = layer.getBoundingClientRect();
    if (rb.width >= 0.9 * vw && rb.height >= 0.9 * vh && shown(layer) && opaque(layer)) backdrop = layer;
  }
  function uncovered(el) {
    if (modal) return inside(modal, el);
    if (!backdrop) return true;
    if (inside(backdrop, el)) return true;
    var r = el.getBoundingClientRect();
    var x0 = Math.max(0, r.left), x1 = Math.min(vw, r.right), y0 = Math.max(0, r.top), y1 = Math.min(vh, r.bottom);
    if (x1 <= x0 || y1 <= y0) return false; // off screen, under the backdrop in the photograph
    var hit = deepest((x0 + x1) / 2, (y0 + y1) / 2);
    return !!hit && inside(el, hit);
  }

  var chosen = wanted.map(function (w) {
    var found = all(w.key);
    // The keyed ancestor the hit was recorded in; absent from this layout: no stand-in anywhere.
    var scopes = w.scope ? all(w.scope) : [doc];
    function inScope(el) { return scopes.some(function (s) { return inside(s, el); }); }
    function standsIn(el) { return sameLabel(el, w.label) && inScope(el); }
    if (w.scope && sharedName(w.key)) found = found.filter(inScope);
    if (found.length > 1) found = found.filter(standsIn);
    if (!found.length && w.tag && w.label) {
      found = [];
      scopes.forEach(function (s) { found = found.concat(deepAll(s, w.tag).filter(standsIn)); });
    }
    if (found.length !== 1) return null;
    var el = found[0];
    return shown(el) && uncovered(el) ? el : null;
  });

  // Measure in the photograph's geometry: the replay's frame made as large as the document (as
  // the full-page screenshot does), then put back as it was.
  var sx = view.scrollX, sy = view.scrollY;
  var size = docSize();
  var frame = null;
  try { frame = view.frameElement; } catch (e) { frame = null; }
  var saved = frame ? [frame.getAttribute("width"), frame.getAttribute("height")] : null;
  if (frame) {
    frame.setAttribute("width", String(size[0]));
    frame.setAttribute("height", String(size[1]));
  }
  view.scrollTo({ left: 0, top: 0, behavior: "instant" });
  var boxes = chosen.map(function (el) {
    if (!el) return null;
    var r = el.getBoundingClientRect();
    if (r.right <= 0 || r.bottom <= 0 || r.left >= size[0] || r.top >= size[1]) return null; // beside the page
    return [r.left, r.top, r.width, r.height];
  });
  if (frame) {
    ["width", "height"].forEach(function (name, k) {
      if (saved[k] === null) frame.removeAttribute(name); else frame.setAttribute(name, saved[k]);
    });
  }
  view.scrollTo({ left: sx, top: sy, behavior: "instant" });
  return { boxes: boxes, doc: size, blocked: !!(modal || backdrop) };
})
