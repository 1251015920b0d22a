// Part of recorder/record.js, joined into its function (one scope) by plumbing.assets.page_script.
// Canvas snapshots: pictures of canvases when something may have been drawn and someone may look.
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
  if (canvasShots) afterSnapshot(canvasShots.sweep);
  // --- end of canvas snapshots ------------------------------------------------------------------
