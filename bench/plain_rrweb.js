// What the plain rrweb Replayer gives, for comparison: default options, seek with pause(timeOffset)
// and measure at once, as a tool built directly on rrweb would. Evaluated in a replay host page:
// (function (rrweb, events, queries) {...}) -> Promise of {boxes: [[x, y, w, h] | null, ...], ms}
// where ms is the time the seeks and measures took in the page (not the set-up before them).
(function plainRrwebBoxes(rrweb, events, queries) {
  var root = document.createElement("div");
  root.style.cssText = "position:absolute;left:0;top:0";
  document.body.appendChild(root);
  var replayer = new rrweb.Replayer(events, { root: root, mouseTail: false, showWarning: false });
  replayer.iframe.style.border = "0";
  return new Promise(function (resolve) { setTimeout(resolve, 50); }).then(function () {
    var started = performance.now();
    var out = queries.map(function (q) {
      replayer.pause(q.offset);
      var node = replayer.getMirror().getNode(q.id);
      if (!node || !node.getBoundingClientRect) return null;
      var r = node.getBoundingClientRect(), w = replayer.iframe.contentWindow;
      return [r.left + w.scrollX, r.top + w.scrollY, r.width, r.height];
    });
    var ms = performance.now() - started;
    replayer.destroy();
    root.remove();
    return { boxes: out, ms: ms };
  });
})
