// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// Focus, inputs and hover: focus and input events noted while catching up and applied at
// the cut, whether a page's :focus and :hover rules can move a box at all, and the pointer's hover.
  // Focus and blur events met while catching up, applied at the cut by applyFocus, and whether
  // each node's last focus showed a ring (the recorder's notes; none in older recordings).
  var focusEvents = [];
  var focusShown = new Map();
  // Input events met while catching up, by node id: a field's value and checked state at the cut
  // are those its last input event set (every key typed is an event, each a style change).
  var inputEvents = new Map();

  function applyInputs() {
    if (!inputEvents.size) return;
    var last = Array.from(inputEvents.values()); // in the order of each node's last event
    inputEvents = new Map();
    last.sort(function (a, b) { return a.index - b.index; }); // radio groups: later checks win
    last.forEach(function (item) { cast(item.event); });
  }

  // focus() cost about twice a layout of the page (0.8 ms per click on the demo's product page),
  // and a hover hit test more than one; most pages style focus and hover with colours and
  // outlines only, which move no box. Measuring needs them only where such a rule can move one.
  var PAINT_ONLY = /^(color|background(-.*)?|border(-(top|right|bottom|left|block|inline)(-(start|end))?)?-color|outline(-.*)?|box-shadow|text-shadow|text-decoration(-.*)?|text-emphasis(-.*)?|opacity|cursor|caret-color|accent-color|fill(-.*)?|stroke(-.*)?|filter|transition(-.*)?|-webkit-tap-highlight-color|-webkit-text-fill-color|z-index)$/;
  var PSEUDO = { focus: /:focus/, hover: /:hover/ }; // rrweb's ".\:hover" copies match too
  var sheetVerdicts = new WeakMap(); // stylesheet -> {rules: count when checked, focus, hover}
  var textVerdicts = new Map(); // the CSS text of a <style> -> the same: pages rebuilt share them

  function scanRules(rules, within, found) { // sets found[pseudo] where a rule can move a box
    for (var k = 0; k < rules.length; k++) {
      var rule = rules[k], inside = {};
      Object.keys(PSEUDO).forEach(function (name) {
        inside[name] = within[name] || (rule.selectorText !== undefined && PSEUDO[name].test(rule.selectorText));
      });
      if (rule.style) {
        for (var j = 0; j < rule.style.length; j++) {
          if (PAINT_ONLY.test(rule.style[j])) continue;
          Object.keys(PSEUDO).forEach(function (name) { if (inside[name]) found[name] = true; });
          break;
        }
      }
      if (rule.cssRules) scanRules(rule.cssRules, inside, found); // @media, @supports, nesting
    }
    return found;
  }

  function movesBoxes(pseudo) { // can a rule of the replayed documents with `pseudo` move a box?
    return documents().some(function (d) {
      for (var k = 0; k < d.styleSheets.length; k++) {
        var sheet = d.styleSheets[k], rules;
        try { rules = sheet.cssRules; } catch (e) { return true; } // unreadable: assume it can
        var known = sheetVerdicts.get(sheet);
        if (!known || known.rules !== rules.length) {
          var owner = sheet.ownerNode, text = owner && owner.tagName === "STYLE" ? owner.textContent : null;
          known = text && textVerdicts.get(text);
          if (!known || known.rules !== rules.length) {
            known = scanRules(rules, {}, { rules: rules.length });
            if (text) textVerdicts.set(text, known);
          }
          sheetVerdicts.set(sheet, known);
        }
        if (known[pseudo]) return true;
      }
      return false;
    });
  }

  // `layoutOnly`: the caller measures boxes and will not look at the pixels, so focus is applied
  // only where it can change a box; otherwise the events wait (and are applied once it can).
  function applyFocus(layoutOnly) {
    // Only the last focus and the blurs after it can show at the cut: focusing an element blurs
    // whatever had focus before. With no focus among them, every blur counts.
    var start = 0;
    for (var k = focusEvents.length - 1; k >= 0; k--) {
      if (focusEvents[k].data.type === FOCUS) { start = k; break; }
    }
    focusEvents = focusEvents.slice(start);
    if (!focusEvents.length || (layoutOnly && !movesBoxes("focus"))) return false;
    var active = doc() && doc().activeElement, changed = false;
    for (k = 0; k < focusEvents.length; k++) {
      var e = focusEvents[k], node = replayer.getMirror().getNode(e.data.id);
      if (e.data.type === FOCUS && node === active) continue; // focused already: nothing to pay
      if (e.data.type === BLUR && node && node !== active && !(node.contains && node.contains(active))) continue;
      if (e.data.type === FOCUS && node && node.focus && focusShown.has(e.data.id)) {
        node.focus({ preventScroll: true, focusVisible: focusShown.get(e.data.id) });
      } else cast(e);
      active = doc() && doc().activeElement;
      changed = true;
    }
    focusEvents = [];
    return changed;
  }

  function pointerAt(t) { // the last recorded pointer position in this page at or before t
    var k = upperBound(pointer, t, function (p) { return p.t; }) - 1;
    var pageStart = times[state.seg] - 1000; // rrweb emits positions up to 500 ms after the fact
    for (; k >= 0 && pointer[k].t >= pageStart; k--) {
      if (pointer[k].seg === state.seg) return pointer[k];
    }
    return null;
  }

  // Puts rrweb's hover class on target and its ancestors, touching only elements whose state
  // changes. rrweb's own hoverElements takes the class off every hovered element and puts it
  // back, and each class change on <html> or <body> makes the browser recheck styles below them.
  function hover(target) { // whether anything changed
    if (!target) return false;
    var chain = new Set(), changed = false;
    for (var el = target; el; el = el.parentElement) chain.add(el);
    var last = replayer.lastHoveredRootNode || doc();
    if (last && last.querySelectorAll) {
      last.querySelectorAll(".\\:hover").forEach(function (e) {
        if (!chain.has(e)) { e.classList.remove(":hover"); changed = true; }
      });
    }
    chain.forEach(function (e) {
      if (e.classList && !e.classList.contains(":hover")) { e.classList.add(":hover"); changed = true; }
    });
    replayer.lastHoveredRootNode = target.getRootNode();
    return changed;
  }

  // Hovers what the pointer was over at the cut. Returns {pointer, hitTest}: hitTest is true when
  // the page may have moved under a resting pointer since rrweb recorded its target, so the target
  // must come from a hit test on the settled layout (`hoverByHitTest`).
  function applyHover(t, cut) {
    var p = pointerAt(t);
    if (!p) {
      var hovered = doc().querySelectorAll(".\\:hover");
      hovered.forEach(function (el) { el.classList.remove(":hover"); });
      return { pointer: null, hitTest: false, changed: hovered.length > 0 };
    }
    var after = firstAfter(p.t);
    var still = after > cut || moved[cut] === (after > 0 ? moved[after - 1] : 0);
    var recorded = replayer.getMirror().getNode(p.id);
    var element = recorded && (recorded.nodeType === 1 ? recorded : recorded.parentElement);
    if (still && element && element.isConnected) return { pointer: p, hitTest: false, changed: hover(element) };
    return { pointer: p, hitTest: true, changed: false };
  }

  function hoverByHitTest(p) {
    var mirror = replayer.getMirror();
    var d = doc();
    var recorded = mirror.getNode(p.id);
    var hit = null;
    var owner = recorded && recorded.ownerDocument;
    if (!owner || owner === d) hit = d.elementFromPoint(p.x, p.y); // what the layout now puts there
    return hover(hit || (recorded && recorded.nodeType === 1 ? recorded : recorded && recorded.parentElement));
  }
