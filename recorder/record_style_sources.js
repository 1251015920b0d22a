// Part of recorder/record.js, joined into its function (one scope) by plumbing.assets.page_script.
// Style sources: the page's own text of rules whose CSSOM text is lossy, put back into rrweb's events.
  // --- style sources ----------------------------------------------------------------------------
  // rrweb records style sheets as Chromium's CSSOM serializes them (`rule.cssText`), and that text
  // is lossy for one common pattern: a shorthand holding var() followed by one of its longhands
  // (`border: solid var(--w) red; border-top-width: 3px`, Shoelace's alert) serializes every other
  // longhand as an empty value, `border-right-width: ;`, and the replay draws no border. Here the
  // text the page itself gave (replace/replaceSync/insertRule arguments, a <style>'s text) is kept
  // aside, and the events rrweb emits are rewritten in `emit`: only rules whose CSSOM text is lossy
  // are swapped for their source text. Why in `emit` and not by overriding `cssText` on those
  // rules: finding lossy rules before rrweb reads them would mean checking every sheet a page
  // makes, while in `emit` one regex over text rrweb made anyway finds them, so a page without the
  // pattern pays that regex and little else; and the page's own code never sees a changed CSSOM.
  var styleSources = (function (rrweb) {
    var LOSSY = /[{;]\s+-?[a-z][a-z-]*:\s*;/; // a declaration with an empty value (never `--x: ;`)
    var SheetProto = window.CSSStyleSheet && CSSStyleSheet.prototype;
    if (!SheetProto || !window.WeakMap) return function () {};
    var nativeReplaceSync = SheetProto.replaceSync;
    var sheetText = new WeakMap(); // constructed sheet -> the text of its last replace/replaceSync
    var inserted = new WeakMap(); // sheet -> texts given to insertRule since then
    function wrap(name, note) {
      var original = SheetProto[name];
      if (typeof original !== "function") return;
      SheetProto[name] = function (text) {
        var result = original.apply(this, arguments);
        try { note(this, text); } catch (e) { /* bookkeeping never breaks the page */ }
        return result;
      };
    }
    function replaced(sheet, text) { sheetText.set(sheet, String(text)); inserted.delete(sheet); }
    wrap("replaceSync", replaced);
    wrap("replace", replaced);
    wrap("insertRule", function (sheet, text) {
      var list = inserted.get(sheet);
      if (!list) inserted.set(sheet, list = []);
      list.push(String(text));
    });

    // Top-level statements of a style sheet's text (comments, strings and nested blocks skipped).
    function splitRules(text) {
      var out = [], depth = 0, start = 0, n = text.length;
      for (var k = 0; k < n; k++) {
        var c = text.charCodeAt(k);
        if (c === 47 && text.charCodeAt(k + 1) === 42) { // /* comment */
          var end = text.indexOf("*/", k + 2);
          k = end < 0 ? n : end + 1;
        } else if (c === 34 || c === 39) { // "..." or '...'
          for (k++; k < n && text.charCodeAt(k) !== c; k++) if (text.charCodeAt(k) === 92) k++;
        } else if (c === 92) k++; // an escaped character
        else if (c === 123) depth++;
        else if (c === 125 || (c === 59 && depth === 0)) {
          if (c === 125 && --depth > 0) continue;
          if (depth < 0) depth = 0;
          var chunk = text.slice(start, k + 1).trim();
          if (chunk && chunk !== ";") out.push(chunk);
          start = k + 1;
        }
      }
      return out;
    }

    // What Chromium makes of one rule's text alone: equal to a live rule's cssText, it is that
    // rule's source. Cached: pages share component styles.
    var parsed = new Map();
    function canonical(chunk) {
      if (parsed.has(chunk)) return parsed.get(chunk);
      var text = null;
      try {
        var scratch = new CSSStyleSheet();
        nativeReplaceSync.call(scratch, chunk);
        if (scratch.cssRules.length === 1) text = scratch.cssRules[0].cssText;
      } catch (e) { /* not one rule */ }
      if (parsed.size > 2000) parsed.clear();
      parsed.set(chunk, text);
      return text;
    }
    // A rule's prelude (selector, @media condition) in a form both its source and Chromium's
    // serialization share: no comments, spaces or quotes, one colon before pseudo-elements.
    function prelude(text) {
      var brace = text.indexOf("{");
      return (brace < 0 ? text : text.slice(0, brace)).replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/[\s'"]+/g, "").replace(/::/g, ":").toLowerCase();
    }
    function index(into, chunks) { // prelude -> chunks with it, in order
      chunks.forEach(function (chunk) {
        var key = prelude(chunk), list = into.get(key);
        if (!list) into.set(key, list = []);
        list.push(chunk);
      });
      return into;
    }
    var textIndexes = new Map(); // a sheet's source text -> {all, byPrelude}: split once, not per rule
    function textIndex(text) {
      var found = textIndexes.get(text);
      if (!found) {
        var chunks = splitRules(text);
        found = { all: chunks, byPrelude: index(new Map(), chunks) };
        if (textIndexes.size > 200) textIndexes.clear();
        textIndexes.set(text, found);
      }
      return found;
    }
    var insertedIndexes = new WeakMap(); // sheet -> {count, byPrelude} over its insertRule texts
    function insertedIndex(sheet) {
      var list = inserted.get(sheet) || [], found = insertedIndexes.get(sheet);
      if (!found || found.count > list.length) insertedIndexes.set(sheet, found = { count: 0, byPrelude: new Map() });
      if (found.count < list.length) { index(found.byPrelude, list.slice(found.count)); found.count = list.length; }
      return { all: list, byPrelude: found.byPrelude };
    }

    var FALLBACK_CHUNKS = 300; // beyond the prelude match, how many other chunks a rule may try
    function sourceOf(sheet, cssText) {
      var owner = sheet.ownerNode, sources = [];
      var own = sheetText.get(sheet);
      if (own === undefined && owner && owner.tagName === "STYLE") own = owner.textContent;
      if (inserted.has(sheet)) sources.push(insertedIndex(sheet));
      if (own) sources.push(textIndex(own));
      var key = prelude(cssText), k, j;
      for (k = 0; k < sources.length; k++) { // chunks whose prelude matches: usually just the one
        var same = sources[k].byPrelude.get(key) || [];
        for (j = same.length - 1; j >= 0; j--) if (canonical(same[j]) === cssText) return same[j];
      }
      var tried = 0; // a selector Chromium writes differently (escapes, case): a bounded search
      for (k = 0; k < sources.length; k++) {
        var all = sources[k].all;
        for (j = all.length - 1; j >= 0 && tried < FALLBACK_CHUNKS; j--, tried++) {
          if (canonical(all[j]) === cssText) return all[j];
        }
      }
      return null;
    }

    // rrweb makes url()s absolute against the sheet's address: the source text gets the same.
    function absolutify(text, base) {
      if (!base) return text;
      return text.replace(/url\(\s*(['"]?)([^'")]*)\1\s*\)/g, function (all, quote, path) {
        if (!path || /^([a-z][a-z0-9+.-]*:|\/\/|#)/i.test(path)) return all;
        try { return "url(" + quote + new URL(path, base).href + quote + ")"; } catch (e) { return all; }
      });
    }

    // `text`: what rrweb made of `sheet`; returns it with each lossy top-level rule's text replaced.
    function repairSheetText(text, sheet, base) {
      var rules;
      try { rules = sheet.cssRules; } catch (e) { return text; }
      for (var k = 0; k < rules.length; k++) {
        var css = rules[k].cssText;
        if (!LOSSY.test(css)) continue;
        var source = sourceOf(sheet, css);
        if (!source) continue;
        var at = text.indexOf(css);
        if (at < 0) { css = absolutify(css, base); at = text.indexOf(css); }
        if (at >= 0) text = text.slice(0, at) + absolutify(source, base) + text.slice(at + css.length);
      }
      return text;
    }

    function repairElement(id, attributes) { // a <style> or inlined <link>'s _cssText
      var node = rrweb.record.mirror.getNode(id), sheet = node && node.sheet;
      if (!sheet) return;
      var base = sheet.href || node.baseURI;
      var text = repairSheetText(attributes._cssText, sheet, base);
      if (LOSSY.test(text) && node.tagName === "LINK" && node.href) {
        // A linked sheet's text is not ours to read again: let the replay load it from its address.
        delete attributes._cssText;
        attributes.rel = node.getAttribute("rel") || "stylesheet";
        attributes.href = node.href;
        return;
      }
      attributes._cssText = text;
    }

    function walk(node) {
      if (node.type === 2 && node.attributes && typeof node.attributes._cssText === "string"
          && LOSSY.test(node.attributes._cssText)) repairElement(node.id, node.attributes);
      var children = node.childNodes;
      if (children) for (var k = 0; k < children.length; k++) walk(children[k]);
    }

    function repairAdopted(d) { // rrweb's AdoptedStyleSheet event: new sheets' rules, one by one
      var host = rrweb.record.mirror.getNode(d.id);
      var root = host && (host.nodeType === 9 ? host : host.shadowRoot);
      var sheets = root && root.adoptedStyleSheets;
      if (!sheets) return;
      d.styles.forEach(function (style) {
        var sheet = sheets[d.styleIds.indexOf(style.styleId)];
        if (!sheet) return;
        style.rules.forEach(function (entry) {
          if (!LOSSY.test(entry.rule)) return;
          var live = sheet.cssRules[entry.index];
          if (!live || live.cssText !== entry.rule) return;
          var source = sourceOf(sheet, entry.rule);
          if (source) entry.rule = source;
        });
      });
    }

    return function repairEvent(event) {
      try {
        var d = event.data;
        if (event.type === 2) walk(d.node);
        else if (event.type === 3 && d.source === 0) { // a mutation: added nodes, a link's late _cssText
          (d.adds || []).forEach(function (add) { walk(add.node); });
          (d.attributes || []).forEach(function (a) {
            if (a.attributes && typeof a.attributes._cssText === "string" && LOSSY.test(a.attributes._cssText)) {
              repairElement(a.id, a.attributes);
            }
          });
        } else if (event.type === 3 && d.source === 15 && d.styles) repairAdopted(d);
      } catch (e) { /* an unrepaired event is still an event */ }
    };
  })(rrweb);
  // --- end of style sources ---------------------------------------------------------------------
