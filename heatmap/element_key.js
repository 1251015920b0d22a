// Names "the same element" across sessions whose DOMs differ. Evaluated as an expression:
// (function (el, opts) {...}) -> {key, label, tag, interactive, box} for the element a visitor
// meant to hit: the control around `el` (a click on a button's icon is a click on the button), or
// with opts.landmark the nearest block at least half the page wide (anchors for scroll depth).
// `box` is [x, y, w, h] in document px of the element's own document.
// The key is a CSS selector that is unique in the element's document, built from what survives
// between visitors: a stable id, a test/heatmap/name/aria attribute, a link's href; otherwise a
// path of tag + stable classes from the nearest ancestor that has such a key.
(function elementKey(el, opts) {
  "use strict";
  var doc = el.ownerDocument;
  var INTERACTIVE = "a[href],button,input,select,textarea,label,summary,[role=button],[role=link]," +
    "[role=tab],[role=menuitem],[role=checkbox],[role=switch],[onclick]";
  var ATTRS = ["data-testid", "data-heatmap", "name", "aria-label"];
  // Classes that say what state an element is in, not what it is; rrweb's replay adds ":hover".
  var STATE_CLASS = /^(:hover|active|is-|has-|open|opened|closed|show|shown|hidden|visible|selected|current|focus|focused|hover|expanded|collapsed|disabled|loading|loaded|lazy|in$|fade)/i;

  function generated(token) {
    return /\d{3,}/.test(token) || /^[a-f0-9]{8,}$/i.test(token) ||
      /^(ember|react-|radix-|headlessui-|mui-|:r|css-|sc-|jsx-|svelte-|ng-|v-)/i.test(token) ||
      /[:[\]]/.test(token);
  }
  function esc(value) { return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&"); }
  function quote(value) { return '"' + value.replace(/["\\]/g, "\\$&") + '"'; }
  function tag(node) { return node.tagName.toLowerCase(); }
  function count(selector) {
    try { return doc.querySelectorAll(selector).length; } catch (e) { return 0; }
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
  // A key the element carries itself, or null.
  function ownKey(node) {
    if (node.id && !generated(node.id)) return "#" + esc(node.id);
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
    var own = ownKey(node);
    if (own && !/^#/.test(own)) return own;
    return tag(node) + stableClasses(node).map(function (c) { return "." + esc(c); }).join("");
  }
  // Position among siblings that look the same, only when there are several.
  function disambiguate(node, seg) {
    var parent = node.parentElement;
    if (!parent) return seg;
    var same = Array.prototype.filter.call(parent.children, function (c) {
      try { return c.matches(seg); } catch (e) { return false; }
    });
    if (same.length < 2) return seg;
    return ":nth-child(" + (same.indexOf(node) + 1) + " of " + seg + ")";
  }
  function anchorFor(node) {
    var own = ownKey(node);
    return own && count(own) === 1 ? own : null;
  }

  function keyOf(node) {
    var own = anchorFor(node);
    if (own) return own;
    var parts = [];
    var current = node;
    while (current && current.nodeType === 1) {
      var anchor = current !== node ? anchorFor(current) : null;
      if (anchor) { parts.unshift(anchor); break; }
      if (tag(current) === "body" || tag(current) === "html") { parts.unshift(tag(current)); break; }
      parts.unshift(disambiguate(current, segment(current)));
      current = current.parentElement;
    }
    return parts.join(" > ");
  }
  function labelOf(node) {
    var text = "";
    if (/^(input|select|textarea)$/.test(tag(node))) {
      text = node.getAttribute("aria-label") || node.getAttribute("placeholder") || node.getAttribute("name") || "";
      if (/^(submit|button|reset)$/i.test(node.type || "")) text = node.value || text;
    } else {
      text = node.innerText || node.textContent || node.getAttribute("aria-label") ||
        node.getAttribute("alt") || node.getAttribute("title") || "";
    }
    text = text.replace(/\s+/g, " ").trim();
    return text.length > 80 ? text.slice(0, 79) + "\u2026" : text;
  }

  function landmark(node) {
    var wide = (doc.documentElement.clientWidth || 0) / 2;
    while (node.parentElement && tag(node) !== "body" &&
           (node.getBoundingClientRect().width < wide || node.getBoundingClientRect().height < 24)) {
      node = node.parentElement;
    }
    return node;
  }

  if (!el || el.nodeType !== 1) el = el && el.parentElement;
  if (!el) return null;
  var control = el.closest(INTERACTIVE);
  var target = opts && opts.landmark ? landmark(el) : control || el;
  var r = target.getBoundingClientRect();
  var view = doc.defaultView;
  return {
    key: keyOf(target), label: labelOf(target), tag: tag(target), interactive: !!control,
    box: [r.left + view.scrollX, r.top + view.scrollY, r.width, r.height],
  };
})
