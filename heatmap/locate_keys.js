// Finds elements by key in a reference layout. Evaluated as an expression:
// (function (doc, wanted) {...}) with wanted = [{key, tag, label}], returning one [x, y, w, h]
// (document px) or null per entry. The key (a CSS selector) is tried first; when it matches
// several elements the one with the same visible label wins; when it matches none, an element
// of the same tag with the same label stands in (a block moved under another parent).
(function locateKeys(doc, wanted) {
  "use strict";
  var view = doc.defaultView;
  function label(el) { return (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim(); }
  function sameLabel(el, text) {
    if (!text) return false;
    var l = label(el);
    return l === text || (text.slice(-1) === "\u2026" && l.indexOf(text.slice(0, -1)) === 0);
  }
  function box(el) {
    var r = el.getBoundingClientRect();
    if (!r.width && !r.height) return null; // not displayed in this layout
    return [r.left + view.scrollX, r.top + view.scrollY, r.width, r.height];
  }
  function all(selector) {
    try { return Array.prototype.slice.call(doc.querySelectorAll(selector)); } catch (e) { return []; }
  }
  return wanted.map(function (w) {
    var found = all(w.key);
    if (found.length > 1) found = found.filter(function (el) { return sameLabel(el, w.label); });
    if (!found.length && w.tag && w.label) {
      found = all(w.tag).filter(function (el) { return sameLabel(el, w.label); });
    }
    return found.length === 1 ? box(found[0]) : null;
  });
})
