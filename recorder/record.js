// sessionheat in-page recorder core, shared by the Playwright recorder and the snippet.
// Evaluated as an expression: (function (rrweb, config, send) {...}).
//   rrweb  - the vendored rrweb build (never the page's own)
//   config - {maskInputs, flushMs, maxBatch, evidence, leaveEvents, canvas}
//            (canvas: false, or {intervalMs, type, quality, sampleQuality}: see "canvas snapshots")
//   send   - function(batchJson: string, final: boolean) -> Promise|undefined; owns the transport
//   TAGS   - the custom-event tags (TAGS.CANVAS is plumbing.vocabulary.TAG_CANVAS), given by the
//            one loader of page scripts, plumbing.assets.page_script
// It buffers events in the page and hands them over in batches: one transport call per event made
// a mutation-heavy page 2.7x slower than no recording, against 1.7x for buffering alone.
(function sessionheatRecord(rrweb, config, send) {
  "use strict";
  var buffer = [];
  var pending = Promise.resolve();

  function flush(final) {
    if (!buffer.length) return pending;
    var batch = buffer;
    buffer = [];
    try {
      pending = Promise.resolve(send(JSON.stringify(batch), !!final)).catch(function () {});
    } catch (e) {
      pending = Promise.resolve();
    }
    return pending;
  }

  // Custom events made before rrweb's first snapshot (a page tagging its variant from an inline
  // script) are held back: rrweb refuses them until it records, and replay needs them after the
  // snapshot anyway.
  var early = [];
  var started = false;
  var afterSnapshot = []; // functions run (in a task of their own) once rrweb's first snapshot is out

  // When each image first finished loading (or failed), for images the first snapshot caught on
  // their way or that came later: until then the page had no picture there, and no size from it.
  // rrweb records the image, not its arrival, so a replay would lay a click made while a late
  // image was still loading out as if the image had been there all along. (Set up before rrweb
  // starts: when the page is already loaded, rrweb takes its snapshot inside record().)
  var loadedImages = new WeakSet();
  function noteLoadedImages() {
    for (var k = 0; k < document.images.length; k++) {
      var img = document.images[k]; // (an image without a source counts as complete: not it)
      if (img.complete && img.currentSrc) loadedImages.add(img);
    }
  }
  function imageArrived(ev) {
    var img = ev.target;
    if (!img || img.tagName !== "IMG" || loadedImages.has(img)) return;
    loadedImages.add(img); // later loads of a new source are not timed (the old picture stays meanwhile)
    var id = started ? rrweb.record.mirror.getId(img) : -1;
    if (id > 0) custom(TAGS.IMAGE_LOAD, { id: id, ok: ev.type === "load" });
  }
  document.addEventListener("load", imageArrived, true);
  document.addEventListener("error", imageArrived, true);


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


  // --- canvas snapshots -------------------------------------------------------------------------
  // A canvas's drawing is not in the DOM, so rrweb sees none of it. Rather than rrweb's canvas
  // recording (every 2D call serialized, or with sampling a bitmap of every canvas at a fixed rate,
  // changed or not, encoded in a worker that a page's CSP may forbid), each canvas is photographed
  // when something can have been drawn on it and someone may look: when the page first appears,
  // at each pointerdown and click (before the page's own handlers, so a click's moment shows what
  // was under the pointer), and every `intervalMs` for canvases drawn on since the last picture
  // (animations, hover tooltips). "Drawn on" is a flag set by the 2D context's drawing methods,
  // so an idle chart costs nothing. The pixels are copied synchronously (createImageBitmap) and
  // encoded off the page's way (OffscreenCanvas.convertToBlob); the note carries the moment of the
  // copy (`at`), which the replay goes by. Pictures of a moment someone acts at are lossless WebP
  // (quality 1; lossy WebP blurred chart edges past 1.5 % of the pixels, and PNG and JPEG encode
  // only in idle time, a second late); the timer's, for watching, lossy WebP 0.8 (a quarter the size).
  // config.canvas: false switches it off.
  var canvasShots = (function (options) {
    if (!options || !window.CanvasRenderingContext2D || !window.createImageBitmap || !window.OffscreenCanvas
        || !window.WeakMap || !window.Set) return null;
    var intervalMs = Math.max(250, options.intervalMs || 1000);
    var type = options.type || "image/webp", quality = options.quality == null ? 1 : options.quality;
    var sampleQuality = options.sampleQuality == null ? 0.8 : options.sampleQuality; // the timer's pictures
    var dirty = new Set(); // canvases drawn on (or given a context) since their last picture
    var kinds = new WeakMap(); // canvas -> the context type it was asked for
    var sent = new WeakMap(); // canvas -> the last picture sent (data URL), or "" for "not captured"
    var proto = CanvasRenderingContext2D.prototype;
    ["fill", "stroke", "fillRect", "strokeRect", "clearRect", "fillText", "strokeText", "drawImage",
     "putImageData", "reset"].forEach(function (name) {
      var original = proto[name];
      if (typeof original !== "function") return;
      proto[name] = function () {
        if (this.canvas) dirty.add(this.canvas);
        return original.apply(this, arguments);
      };
    });
    var getContext = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind) {
      var context = getContext.apply(this, arguments);
      if (context && !kinds.has(this)) { kinds.set(this, String(kind)); dirty.add(this); }
      return context;
    };

    function encode(bitmap, q) {
      var off = new OffscreenCanvas(bitmap.width, bitmap.height);
      off.getContext("bitmaprenderer").transferFromImageBitmap(bitmap);
      return off.convertToBlob({ type: type, quality: q }).then(function (blob) {
        return new Promise(function (resolve, reject) {
          var reader = new FileReader();
          reader.onload = function () { resolve(reader.result); };
          reader.onerror = reject;
          reader.readAsDataURL(blob);
        });
      });
    }

    // `exact`: a moment someone acts at (lossless); otherwise a sample for watching (lossy, smaller).
    var sampled = new Set(); // canvases whose last picture is a lossy sample: redone exactly at an act
    function capture(exact) {
      if (exact && sampled.size) sampled.forEach(function (c) { dirty.add(c); });
      if (!started || !dirty.size) return;
      var q = exact ? quality : sampleQuality;
      var at = Date.now();
      dirty.forEach(function (canvas) {
        var id = rrweb.record.mirror.getId(canvas);
        if (id <= 0) { if (!canvas.isConnected) dirty.delete(canvas); return; } // not in the page (yet)
        dirty.delete(canvas);
        var kind = kinds.get(canvas) || "2d"; // unknown: drawn before we were here, or never
        // Inside an element whose text the page asked us to mask: its drawing may be that text.
        if (canvas.closest("[data-sessionheat-mask]")) kind = "masked";
        if (kind !== "2d") { // WebGL, bitmaprenderer, masked: said once, so the replay can say so
          if (sent.get(canvas) !== "") custom(TAGS.CANVAS, { id: id, at: at, w: canvas.width, h: canvas.height, url: null, kind: kind });
          sent.set(canvas, "");
          return;
        }
        if (!canvas.width || !canvas.height) return;
        var w = canvas.width, h = canvas.height;
        if (exact) sampled.delete(canvas); else sampled.add(canvas);
        createImageBitmap(canvas).then(function (bitmap) { return encode(bitmap, q); }).then(function (url) {
          if (sent.get(canvas) === url) return;
          sent.set(canvas, url);
          custom(TAGS.CANVAS, { id: id, at: at, w: w, h: h, url: url, kind: kind });
        }).catch(function () { // tainted by a cross-origin image: it cannot be read, say so once
          if (sent.get(canvas) === "") return;
          sent.set(canvas, "");
          custom(TAGS.CANVAS, { id: id, at: at, w: w, h: h, url: null, kind: "tainted 2d" });
        });
      });
    }

    var exactly = function () { capture(true); };
    addEventListener("pointerdown", exactly, true);
    addEventListener("click", exactly, true);
    setInterval(function () { capture(false); }, intervalMs);
    return {
      sweep: function () { // the first snapshot is out: every canvas it caught, blank or not
        var mirror = rrweb.record.mirror; // (it knows the canvases inside shadow roots too)
        if (mirror.getIds) {
          mirror.getIds().forEach(function (id) {
            var node = mirror.getNode(id);
            if (node && node.nodeName === "CANVAS") dirty.add(node);
          });
        } else document.querySelectorAll("canvas").forEach(function (c) { dirty.add(c); });
        capture(true);
      },
    };
  })(config.canvas === false ? null : config.canvas || {});
  if (canvasShots) afterSnapshot.push(canvasShots.sweep);
  // --- end of canvas snapshots ------------------------------------------------------------------

  var stop = rrweb.record({
    emit: function (event) {
      styleSources(event);
      buffer.push(event);
      if (!started && event.type === 2) {
        started = true;
        noteLoadedImages();
        setTimeout(function () { early.splice(0).forEach(function (c) { custom(c[0], c[1]); }); }, 0);
        afterSnapshot.forEach(function (fn) { setTimeout(fn, 0); });
      }
      if (buffer.length >= config.maxBatch) setTimeout(flush, 0);
    },
    recordAfter: "DOMContentLoaded", // do not wait for every image: early clicks count too
    maskAllInputs: !!config.maskInputs,
    maskInputOptions: { password: true }, // password fields are masked even when inputs are not
    blockSelector: "[data-sessionheat-block]",
    maskTextSelector: "[data-sessionheat-mask]",
    inlineStylesheet: true,
    collectFonts: true,
    recordCanvas: false,
  });

  // Never throws into the page: rrweb refuses custom events whenever it is not recording (it
  // switches recording on only after its first snapshot is out, and off when stopped), and an
  // image can arrive at any of those moments.
  function custom(tag, payload) {
    if (!started) { early.push([tag, payload]); return; }
    try { rrweb.record.addCustomEvent(tag, payload); } catch (e) { /* not recording: nothing to note */ }
  }

  // SPA route changes: rrweb sees the DOM change but not that the visitor is on a new page.
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      custom(TAGS.ROUTE, { href: location.href, kind: name === "pushState" ? "push" : "replace" });
      return result;
    };
  });
  addEventListener("popstate", function () {
    custom(TAGS.ROUTE, { href: location.href, kind: "pop" });
  });

  // Chromium dispatches `scroll` at the next frame, so a click right after a jump (a scripted click
  // that scrolls its target into view, a keyboard jump) would be recorded before the scroll that
  // preceded it. Say where the page really is before any click that would otherwise be misplaced.
  var lastScroll = [scrollX, scrollY];
  addEventListener("scroll", function () { lastScroll = [scrollX, scrollY]; }, { capture: true, passive: true });
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function () {
      if (scrollX !== lastScroll[0] || scrollY !== lastScroll[1]) {
        lastScroll = [scrollX, scrollY];
        custom(TAGS.SCROLL, { x: scrollX, y: scrollY });
      }
    }, true);
  });

  // --- open shadow roots ------------------------------------------------------------------------
  // Transition, animation and toggle events are not composed: from inside a shadow root they never
  // reach the document. The blocks below that need them listen on every open root as well.
  var watchedRoots = new Set(); // the document and every open shadow root seen
  var rootListeners = []; // [type, listener], each added (capturing) to every watched root
  function listenInRoots(type, listener) {
    rootListeners.push([type, listener]);
    watchedRoots.forEach(function (root) { root.addEventListener(type, listener, true); });
  }
  function watchRoot(root) {
    if (watchedRoots.has(root)) return;
    watchedRoots.add(root);
    rootListeners.forEach(function (l) { root.addEventListener(l[0], l[1], true); });
  }
  watchRoot(document);
  var attachShadow = Element.prototype.attachShadow;
  if (attachShadow) {
    Element.prototype.attachShadow = function () {
      var root = attachShadow.apply(this, arguments);
      try { if (this.shadowRoot === root) watchRoot(root); } catch (e) { /* never into the page */ }
      return root;
    };
  }
  function watchExistingShadowRoots(node) { // roots made before this script ran (a late snippet)
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT);
    for (var el = walker.currentNode; el; el = walker.nextNode()) {
      if (el.shadowRoot && !watchedRoots.has(el.shadowRoot)) {
        watchRoot(el.shadowRoot);
        watchExistingShadowRoots(el.shadowRoot);
      }
    }
  }
  afterSnapshot.push(function () { watchExistingShadowRoots(document); });

  // --- moments: how far along each transition and animation was -------------------------------
  // A replay cut at a click must show transitions as far along as the visitor saw them, not
  // finished. Notes (TAGS.ANIMATIONS) say what was running, each item
  // with its start in this page's document-timeline ms (so the replay can set its currentTime,
  // delay included), and a transition with its keyframes and timing (a replay that rebuilt the page
  // has no before-change style to start one from). Written when one begins (transitionrun,
  // animationstart; shadow roots do not pass these to the document, so each open root is listened
  // to), when recording starts, and before each click with everything running then: a transition
  // that the click's own style update created announces itself only at the next frame.
  function describeAnimation(a, now) { // a note's item for Animation `a`, or null
    var effect = a.effect, target = effect && effect.target;
    if (!target || a.playState === "idle" || a.playState === "finished" || a.currentTime === null) return null;
    var transition = typeof a.transitionProperty === "string";
    if (!transition && typeof a.animationName !== "string") return null; // a script's: not in any CSS
    var id = rrweb.record.mirror.getId(target);
    if (!(id > 0)) return null;
    var item = { id: id, kind: transition ? "transition" : "animation",
                 name: transition ? a.transitionProperty : a.animationName,
                 start: Math.round((now - a.currentTime) * 1000) / 1000 };
    if (effect.pseudoElement) item.pseudo = effect.pseudoElement;
    if (a.playState === "paused") item.held = a.currentTime; // animation-play-state: paused
    if (transition) { // a transition's two keyframes, from and to, in the keyframe's own key
      var t = effect.getTiming(), frames = effect.getKeyframes(), key = null;
      for (var k in frames[0]) {
        if (k !== "offset" && k !== "easing" && k !== "composite" && k !== "computedOffset") key = k;
      }
      if (frames.length !== 2 || key === null) return null;
      item.timing = { delay: t.delay, duration: t.duration, easing: t.easing };
      item.key = key;
      item.values = [frames[0][key], frames[1][key]];
    }
    return item;
  }

  function noteAnimations(list) {
    var now = document.timeline && document.timeline.currentTime;
    if (now === null || now === undefined) return;
    var running = [];
    list.forEach(function (a) {
      try { var item = describeAnimation(a, now); if (item) running.push(item); } catch (e) { /* gone */ }
    });
    if (running.length) custom(TAGS.ANIMATIONS, { at: now, running: running });
  }

  function everyAnimation() { // document.getAnimations() leaves shadow trees out
    var all = [];
    watchedRoots.forEach(function (root) {
      // A root whose host left the page is let go (the Set would keep it alive); its own listeners
      // stay, so a component put back still notes its transitions as they begin.
      if (root !== document && !root.host.isConnected) { watchedRoots.delete(root); return; }
      try { all = all.concat(root.getAnimations()); } catch (e) { /* no Web Animations */ }
    });
    return all;
  }

  // transitionrun and animationstart only say that something began: what began is read from
  // getAnimations() once per task for all of them. Asking the element in each event's listener
  // cost 12 ms an event (a style update each time): 7 s for 300 boxes toggling two properties.
  var noted = new WeakSet(); // Animations already noted as begun
  var lookScheduled = false;
  function animationBegan() {
    if (!started || lookScheduled) return;
    lookScheduled = true;
    setTimeout(noteBegun, 0);
  }
  function noteBegun() {
    lookScheduled = false;
    var fresh = [], waiting = null;
    everyAnimation().forEach(function (a) {
      if (noted.has(a)) return;
      // Still pending, it has no start time yet (its currentTime holds at 0): look again once it has.
      if (a.pending) { waiting = waiting || a; return; }
      noted.add(a);
      fresh.push(a);
    });
    noteAnimations(fresh);
    if (waiting) waiting.ready.then(animationBegan, function () {});
  }

  // One that stopped before its end without another taking over (a hover left where only :hover
  // declares the transition, an element hidden) is noted as ended: otherwise the replay would go on
  // remaking it for the rest of its duration.
  function animationCancelled(ev) {
    var now = document.timeline && document.timeline.currentTime;
    var id = started && ev.target ? rrweb.record.mirror.getId(ev.target) : -1;
    if (!(id > 0) || now === null || now === undefined) return;
    var item = { id: id, kind: ev.type === "transitioncancel" ? "transition" : "animation",
                 name: ev.type === "transitioncancel" ? ev.propertyName : ev.animationName, start: now };
    if (ev.pseudoElement) item.pseudo = ev.pseudoElement;
    custom(TAGS.ANIMATIONS, { at: now, running: [], ended: [item] });
  }

  listenInRoots("transitionrun", animationBegan);
  listenInRoots("animationstart", animationBegan);
  listenInRoots("transitioncancel", animationCancelled);
  listenInRoots("animationcancel", animationCancelled);
  afterSnapshot.push(noteBegun); // what runs as recording starts (after the roots are found)
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function () { if (started) noteAnimations(everyAnimation()); }, true);
  });

  // --- the top layer: open popovers and modal dialogs ---------------------------------------------
  // showPopover() (or a popovertarget button) changes no attribute, and showModal() only sets
  // `open`, as a plain show() does: rrweb records neither a popover opening nor a dialog being
  // modal. Notes (TAGS.TOP_LAYER) say when each opened and closed, and
  // whether modally: on `toggle` (not composed: listened to in every open root), on showModal()
  // (browsers whose dialogs fire no toggle), and for what is open when recording starts.
  function inTopLayer(el) { // {popover, modal} of an element that can be in the top layer, or null
    var popover = el.hasAttribute("popover");
    if (!popover && el.tagName !== "DIALOG") return null; // (a <details> toggles too: rrweb sees `open`)
    var state = { popover: popover, open: false, modal: false };
    try { state.open = popover ? el.matches(":popover-open") : el.open; } catch (e) { return null; }
    try { state.modal = el.tagName === "DIALOG" && el.matches(":modal"); } catch (e) { /* no :modal */ }
    return state;
  }

  function noteTopLayer(el) {
    var state = el && el.hasAttribute && inTopLayer(el), id = state && rrweb.record.mirror.getId(el);
    if (!(id > 0)) return;
    custom(TAGS.TOP_LAYER, { id: id, open: state.open, modal: state.modal, popover: state.popover });
  }
  listenInRoots("toggle", function (ev) { if (started) noteTopLayer(ev.target); });
  var showModal = window.HTMLDialogElement && HTMLDialogElement.prototype.showModal;
  if (showModal) {
    HTMLDialogElement.prototype.showModal = function () {
      var result = showModal.apply(this, arguments);
      try { if (started) noteTopLayer(this); } catch (e) { /* never into the page */ }
      return result;
    };
  }
  afterSnapshot.push(function () {
    watchedRoots.forEach(function (root) {
      root.querySelectorAll("[popover], dialog[open]").forEach(function (el) {
        var state = inTopLayer(el);
        if (state && state.open && (state.popover || state.modal)) noteTopLayer(el);
      });
    });
  });

  // --- inner scrollers at each click ---------------------------------------------------------------
  // The window block above, for scrolling containers: a click right after a container scrolled
  // (scrollIntoView, a fast wheel) comes before Chromium's `scroll` for it, and rrweb samples those
  // anyway. Before a click, each scrolled ancestor of what it hit (through shadow roots) whose
  // position differs from what its last `scroll` said is noted (TAGS.INNER_SCROLL).
  var seenScroll = new WeakMap(); // element -> [left, top] at its last `scroll`
  listenInRoots("scroll", function (ev) {
    var el = ev.target;
    if (el && el.nodeType === 1) seenScroll.set(el, [el.scrollLeft, el.scrollTop]);
  });
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function (ev) {
      if (!started || !ev.composedPath) return;
      ev.composedPath().forEach(function (el) {
        if (!el || el.nodeType !== 1 || el === document.scrollingElement) return; // (the window's: above)
        var x = el.scrollLeft, y = el.scrollTop, seen = seenScroll.get(el);
        if (seen ? seen[0] === x && seen[1] === y : x === 0 && y === 0) return;
        seenScroll.set(el, [x, y]);
        var id = rrweb.record.mirror.getId(el);
        if (id > 0) custom(TAGS.INNER_SCROLL, { id: id, x: x, y: y });
      });
    }, true);
  });

  // --- focus: whether its ring showed ----------------------------------------------------------------
  // A click focuses a button without a focus ring (:focus-visible does not match); the replay's
  // focus() comes from script with no click before it and draws the ring. Each focus is noted with
  // whether it showed (TAGS.FOCUS_VISIBLE), for the element focused and each shadow host around it
  // (a host matches :focus as well), so the replay focuses each the same way.
  addEventListener("focusin", function (ev) {
    if (!started || !ev.composedPath) return;
    var path = ev.composedPath(), el = path[0];
    while (el && el.nodeType === 1) {
      var id = rrweb.record.mirror.getId(el), visible;
      try { visible = el.matches(":focus-visible"); } catch (e) { return; } // no :focus-visible
      if (id > 0) custom(TAGS.FOCUS_VISIBLE, { id: id, visible: visible });
      var root = el.getRootNode();
      el = root && root.host; // the shadow host, focused with it
    }
  }, true);

  if (config.evidence) {
    // What a click actually hit, with its box as this live page had it: ground truth for tests and
    // benchmarks, since overlays can make a scripted click land elsewhere than it aimed. The element
    // is the first of the click's composed path, read while the click is dispatched (afterwards the
    // path is empty): `ev.target` is retargeted to the shadow host, not the element inside its shadow
    // root that was hit. Clicks inside same-origin iframes count too, boxed in top-document px as
    // the replay measures them. Tag: TAGS.LIVE_CLICK.
    var frameOffset = function (win) { // where a frame's viewport starts, in top viewport px
      var x = 0, y = 0;
      while (win && win !== window && win.frameElement) {
        var fe = win.frameElement, fr = fe.getBoundingClientRect();
        x += fr.left + fe.clientLeft;
        y += fr.top + fe.clientTop;
        win = win.parent;
      }
      return [x, y];
    };
    var evidenceClick = function (ev) {
      var path = ev.composedPath ? ev.composedPath() : [];
      var target = path.length ? path[0] : ev.target;
      if (target && target.nodeType === 3) target = target.parentNode;
      if (!target || !target.getBoundingClientRect) return;
      var r = target.getBoundingClientRect();
      var o = frameOffset(target.ownerDocument && target.ownerDocument.defaultView);
      custom(TAGS.LIVE_CLICK, {
        id: rrweb.record.mirror.getId(target), // shadow roots and same-origin frames share this mirror
        x: ev.clientX + o[0], y: ev.clientY + o[1],
        scroll: [scrollX, scrollY],
        box: [r.left + o[0] + scrollX, r.top + o[1] + scrollY, r.width, r.height],
      });
    };
    var evidenceDocs = new WeakSet();
    var watchClicks = function (doc) {
      if (!doc || evidenceDocs.has(doc)) return;
      evidenceDocs.add(doc);
      doc.addEventListener("click", evidenceClick, true);
      // A frame's document exists once its `load` fires (caught while capturing: it does not bubble).
      doc.addEventListener("load", function (ev) {
        var frame = ev.target;
        if (frame && frame.tagName === "IFRAME") {
          try { watchClicks(frame.contentDocument); } catch (e) { /* cross-origin: not ours to see */ }
        }
      }, true);
    };
    watchClicks(document);
  }

  // Batches leave in idle time, so serialising and sending them does not compete with the page's
  // own work; the idle callback's timeout still gets every event out within ~2 x flushMs.
  var scheduled = false;
  function flushWhenIdle() {
    if (scheduled || !buffer.length) return;
    scheduled = true;
    var run = function () { scheduled = false; flush(); };
    if (window.requestIdleCallback) requestIdleCallback(run, { timeout: config.flushMs });
    else setTimeout(run, 0);
  }
  var timer = setInterval(flushWhenIdle, config.flushMs);
  // The last batch of a page. Playwright's transport needs `beforeunload` (binding calls made in
  // `pagehide` never arrive); the snippet uses `pagehide`, which keeps the back/forward cache.
  (config.leaveEvents || ["pagehide"]).forEach(function (name) {
    addEventListener(name, function () { flush(true); });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(true);
  });

  return {
    flush: flush,
    stop: function () { clearInterval(timer); if (stop) stop(); return flush(true); },
    set: function (props) { custom(TAGS.SET_PROPERTIES, props || {}); },
    identify: function (userId, props) {
      custom(TAGS.IDENTIFY, { user_id: String(userId), properties: props || {} });
    },
    event: function (name, data) {
      custom(TAGS.ANNOTATION, { name: String(name), data: data || {} });
    },
  };
})
