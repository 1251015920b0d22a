// Names "the same element" across sessions whose DOMs differ. Evaluated as an expression:
// (function (el, opts) {...}) -> {key, scope, plain, ids, label, tag, interactive, box} for the
// element a visitor meant to hit: the control around `el` (a click on a button's icon is a click on
// the button, across shadow roots and slots too), or with opts.landmark the nearest block at least
// half the page wide (anchors for scroll depth). `box` is [x, y, w, h] in document px of the
// element's own document.
//
// The key is a CSS selector that is unique in the element's root (its document, or the shadow
// root holding it), built from what survives between visitors: an id, a test/heatmap/name/aria
// attribute, a link's href; otherwise a path of tag + stable classes from the nearest ancestor that
// has such a key. Inside a shadow root the key is the host's key, " >>> ", then the key inside
// the root (as often as shadow roots nest): querySelectorAll does not cross shadow roots.
//
// `scope` is the key of the nearest ancestor with a key of its own (the operation, the card, the
// row; null: the document): a stand-in found by tag and label must be inside it, never in another
// card. Whether an id is stable is for the data to say (the same id at the same place across
// pageviews), not for how it looks. `ids` lists every id `key` and `scope` rely on as
// [id, place, anchor, instead]: `place` is the key of the element carrying it built without any id
// (where it is, comparable across sessions), `anchor` the "#id" the key begins a part with, and
// `instead` that element's key in its root without its own id (what replaces `anchor` when the
// data shows the id regenerated; it may rely on ids further up, listed too). `plain` is the key
// built without any id at all.
(function elementKey(el, opts) {
  "use strict";
  var INTERACTIVE = "a[href],button,input,select,textarea,label,summary,[role=button],[role=link]," +
    "[role=tab],[role=menuitem],[role=checkbox],[role=switch],[onclick]";
  var ATTRS = ["data-testid", "data-heatmap", "name", "aria-label"];
  var SHADOW = " >>> "; // between a shadow host's key and the key inside its shadow root
  // Classes that say what state an element is in, not what it is; rrweb's replay adds ":hover".
  // A BEM modifier ("button--focused", "tag--success", "button--large") is a state or a variant
  // a component switches as it is used: web components' shadow parts are full of them.
  var STATE_CLASS = /^(:hover|active|is-|has-|open|opened|closed|show|shown|hidden|visible|selected|current|focus|focused|hover|expanded|collapsed|disabled|loading|loaded|lazy|in$|fade)|.--./i;

  // A first hint only: ids that certainly are a framework's counters are never tried.
  function generated(token) {
    return /\d{3,}/.test(token) || /^[a-f0-9]{8,}$/i.test(token) ||
      /^(ember|react-|radix-|headlessui-|mui-|:r|css-|sc-|jsx-|svelte-|ng-|v-)/i.test(token) ||
      /[:[\]]/.test(token);
  }
  function esc(value) { return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&"); }
  function quote(value) { return '"' + value.replace(/["\\]/g, "\\$&") + '"'; }
  function tag(node) { return node.tagName.toLowerCase(); }
  function rootOf(node) { return node.getRootNode ? node.getRootNode() : node.ownerDocument; }
  function hostOf(node) { var root = rootOf(node); return root && root.host ? root.host : null; }
  // The parent in the page's DOM, stepping out of a shadow root to its host.
  function upOf(node) { return node.parentElement || hostOf(node); }
  // The parent in the tree as rendered: a slotted element's slot, then up through the shadow tree.
  function flatUp(node) { return node.assignedSlot || upOf(node); }
  function closestFlat(node, selector) {
    for (var n = node; n; n = flatUp(n)) {
      try { if (n.matches(selector)) return n; } catch (e) { return null; }
    }
    return null;
  }
  function count(root, selector) {
    try { return root.querySelectorAll(selector).length; } catch (e) { return 0; }
  }
  function hrefKey(node) {
    var raw = node.getAttribute("href");
    if (!raw || /^javascript:/i.test(raw)) return null;
    try {
      var url = new URL(raw, "http://sessionheat.invalid/");
      // The same link may be written absolute in one session and relative in another.
      return url.pathname.replace(/^\//, "") + url.search + url.hash;
    } catch (e) { return raw; }
  }
  // A key the element carries itself, or null; ids only when `withIds`.
  function ownKey(node, withIds) {
    if (withIds && node.id && !generated(node.id)) return "#" + esc(node.id);
    for (var i = 0; i < ATTRS.length; i++) {
      var v = node.getAttribute(ATTRS[i]);
      if (v) return tag(node) + "[" + ATTRS[i] + "=" + quote(v) + "]";
    }
    if (tag(node) === "a") {
      var h = hrefKey(node);
      if (h !== null) return 'a[href$=' + quote(h || "/") + "]";
    }
    return null;
  }
  function stableClasses(node) {
    return Array.prototype.filter.call(node.classList, function (c) {
      return !STATE_CLASS.test(c) && !generated(c);
    }).sort();
  }
  function segment(node) {
    var own = ownKey(node, false);
    if (own) return own;
    return tag(node) + stableClasses(node).map(function (c) { return "." + esc(c); }).join("");
  }
  // Position among siblings that look the same, only when there are several.
  function disambiguate(node, seg) {
    var parent = node.parentElement || node.parentNode; // a shadow root's top level has no element parent
    if (!parent || !parent.children) return seg;
    var same = Array.prototype.filter.call(parent.children, function (c) {
      try { return c.matches(seg); } catch (e) { return false; }
    });
    if (same.length < 2) return seg;
    return ":nth-child(" + (same.indexOf(node) + 1) + " of " + seg + ")";
  }
  function anchorFor(node, withIds) {
    var own = ownKey(node, withIds);
    return own && count(rootOf(node), own) === 1 ? own : null;
  }

  // Builds keys with or without ids; `used` collects the elements whose id a key relies on.
  function Keys(withIds) {
    this.withIds = withIds;
    this.used = [];
    this.anchors = new Map(); // node -> its unique own key or null (each costs a query)
  }
  Keys.prototype.anchorOf = function (node) {
    if (!this.anchors.has(node)) this.anchors.set(node, anchorFor(node, this.withIds));
    return this.anchors.get(node);
  };
  Keys.prototype.anchor = function (node) { // an anchor put into a key: its id is relied on
    var own = this.anchorOf(node);
    if (own && own.charAt(0) === "#" && this.used.indexOf(node) < 0) this.used.push(node);
    return own;
  };
  // The key of `node` inside its own root (document or shadow root); `idless`: as if `node` had
  // no id (its ancestors' ids still count).
  Keys.prototype.inRoot = function (node, idless) {
    var own = idless ? anchorFor(node, false) : this.anchor(node);
    if (own) return own;
    var parts = [];
    var current = node;
    while (current && current.nodeType === 1) {
      var anchor = current !== node ? this.anchor(current) : null;
      if (anchor) { parts.unshift(anchor); break; }
      if (tag(current) === "body" || tag(current) === "html") { parts.unshift(tag(current)); break; }
      parts.unshift(disambiguate(current, segment(current)));
      current = current.parentElement;
    }
    return parts.join(" > ");
  };
  Keys.prototype.of = function (node) {
    var host = hostOf(node);
    var inner = this.inRoot(node);
    return host ? this.of(host) + SHADOW + inner : inner;
  };
  // The key of the nearest ancestor (out through shadow hosts) with a key of its own: where the
  // key path starts from, or what holds an element keyed by itself.
  Keys.prototype.scope = function (node) {
    for (var a = upOf(node); a; a = upOf(a)) {
      if (this.anchorOf(a)) return this.of(a);
    }
    return null;
  };

  /*@INCLUDE flat_text.js@*/
  function labelOf(node) {
    var text = "";
    if (/^(input|select|textarea)$/.test(tag(node))) {
      text = node.getAttribute("aria-label") || node.getAttribute("placeholder") || node.getAttribute("name") || "";
      if (/^(submit|button|reset)$/i.test(node.type || "")) text = node.value || text;
    } else {
      var plain = rootOf(node) === node.ownerDocument && !node.shadowRoot;
      text = (plain && node.innerText) || flatText(node).replace(/\s+/g, " ").trim() ||
        node.getAttribute("aria-label") || node.getAttribute("alt") || node.getAttribute("title") || "";
    }
    text = text.replace(/\s+/g, " ").trim();
    return text.length > 80 ? text.slice(0, 79) + "\u2026" : text;
  }

  function landmark(node, doc) {
    var wide = (doc.documentElement.clientWidth || 0) / 2;
    while (node.parentElement && tag(node) !== "body" &&
           (node.getBoundingClientRect().width < wide || node.getBoundingClientRect().height < 24)) {
      node = node.parentElement;
    }
    return node;
  }

  if (!el || el.nodeType !== 1) el = el && (el.parentElement || (el.parentNode && el.parentNode.host));
  if (!el) return null;
  var doc = el.ownerDocument;
  // A slot draws no box of its own (a click on slotted text lands on it): its parent does.
  while (el.localName === "slot" && flatUp(el)) el = flatUp(el);
  var control = closestFlat(el, INTERACTIVE);
  var target = opts && opts.landmark ? landmark(el, doc) : control || el;
  var r = target.getBoundingClientRect();
  var view = doc.defaultView;
  var withIds = new Keys(true), plain = new Keys(false);
  var key = withIds.of(target), scope = withIds.scope(target);
  var ids = [];
  for (var i = 0; i < withIds.used.length; i++) { // grows while `instead` keys rely on ids further up
    var carrier = withIds.used[i];
    ids.push([carrier.id, plain.of(carrier), "#" + esc(carrier.id), withIds.inRoot(carrier, true)]);
  }
  return {
    key: key, scope: scope,
    plain: { key: plain.of(target), scope: plain.scope(target) },
    ids: ids,
    label: labelOf(target), tag: tag(target), interactive: !!control,
    box: [r.left + view.scrollX, r.top + view.scrollY, r.width, r.height],
  };
})
