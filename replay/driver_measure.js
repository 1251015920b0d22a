// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// Measuring: boxes in document px, the layout, what the replay cannot show faithfully, and
// the canvases (replay/canvas.js).
  // --- measuring ---------------------------------------------------------------------------------
  function scrollOf(w) {
    return [w.scrollX || 0, w.scrollY || 0];
  }

  function rectOf(node) {
    if (!node) return null;
    if (node.nodeType === 9) {
      var se = node.scrollingElement || node.documentElement;
      return { left: -scrollOf(node.defaultView)[0], top: -scrollOf(node.defaultView)[1],
               width: se.scrollWidth, height: se.scrollHeight };
    }
    if (node.nodeType === 1) return node.getBoundingClientRect();
    if (node.nodeType === 3 && node.ownerDocument) {
      var range = node.ownerDocument.createRange();
      range.selectNodeContents(node);
      return range.getBoundingClientRect();
    }
    return null;
  }

  // Where the node is, in document px of the replayed page, and what makes that doubtful.
  function boxOf(id) {
    var node = replayer.getMirror().getNode(id);
    if (!node) return { box: null, problem: "node " + id + " is not in the page at this moment" };
    var rect = rectOf(node);
    if (!rect) return { box: null, problem: "node " + id + " has no box" };
    var x = rect.left, y = rect.top;
    var w = node.ownerDocument ? node.ownerDocument.defaultView : null;
    while (w && w !== win() && w.frameElement) { // same-origin iframes: into top-document px
      var fe = w.frameElement, fr = fe.getBoundingClientRect();
      x += fr.left + fe.clientLeft;
      y += fr.top + fe.clientTop;
      w = w.parent;
    }
    var s = scrollOf(win());
    var box = [x + s[0], y + s[1], rect.width, rect.height];
    var problem = null;
    if (node.nodeType === 1) {
      if (node.isConnected === false) problem = "node " + id + " is detached";
      else if (node.ownerDocument.getElementsByTagName("canvas").length && node.closest("canvas")) {
        problem = canvasProblem(node.closest("canvas"));
      }
      else if (node.tagName === "IFRAME" && !node.contentDocument) problem = "cross-origin iframe content is not recorded";
      else if (node.tagName === "IMG" && node.complete && !node.naturalWidth && node.getAttribute("src")) {
        problem = "image did not load: " + node.getAttribute("src");
      }
    }
    return { box: box, problem: problem, tag: node.nodeType === 1 ? node.tagName.toLowerCase() : "#" + node.nodeName };
  }

  function layout() {
    var d = doc(), se = d.scrollingElement || d.documentElement;
    return {
      doc: [se ? se.scrollWidth : 0, se ? se.scrollHeight : 0],
      viewport: [Number(iframe.getAttribute("width")) || iframe.clientWidth, Number(iframe.getAttribute("height")) || iframe.clientHeight],
      scroll: scrollOf(win()),
    };
  }

  function unfaithful() { // what this replay cannot show as the visitor saw it
    var out = [], mirror = replayer.getMirror();
    unfaithfulCanvases().forEach(function (c) {
      var why = canvasProblem(c);
      if (why) out.push({ kind: "canvas", id: mirror.getId(c), detail: why });
    });
    documents().forEach(function (d) {
      d.querySelectorAll("iframe").forEach(function (f) {
        var inner = null;
        try { inner = f.contentDocument; } catch (e) { inner = null; }
        if (!inner || !inner.documentElement || !inner.documentElement.childElementCount) {
          out.push({ kind: "iframe", id: mirror.getId(f), detail: "iframe content was not recorded (cross-origin?)" });
        }
      });
      d.querySelectorAll("img").forEach(function (img) {
        if (img.complete && !img.naturalWidth && img.getAttribute("src")) {
          out.push({ kind: "image", id: mirror.getId(img), detail: "did not load: " + img.getAttribute("src") });
        }
      });
    });
    return out;
  }

  // --- canvas ------------------------------------------------------------------------------------
  function layoutCanvases(cut) { // canvases sized as the live page's were (see canvas.js)
    if (canvases) canvases.layout(cut, replayer.getMirror());
  }

  function paintCanvases(cut) { // the recorded pictures of the moment on the replayed canvases
    return canvases ? canvases.paint(cut, replayer.getMirror()).catch(function () {}) : Promise.resolve();
  }

  function unfaithfulCanvases() { // every canvas of the moment, those in shadow roots too
    var found = canvases ? canvases.canvasesAt(state.applied, replayer.getMirror()) : [];
    documents().forEach(function (d) {
      d.querySelectorAll("canvas").forEach(function (c) { if (found.indexOf(c) < 0) found.push(c); });
    });
    return found;
  }

  function canvasProblem(canvas) {
    return canvases ? canvases.problem(canvas, state.applied, replayer.getMirror()) : "canvas drawing is not recorded";
  }
