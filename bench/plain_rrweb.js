// What the plain rrweb Replayer gives, for comparison: default options, seek with pause(timeOffset)
// and measure at once, as a tool built directly on rrweb would. Evaluated in a replay host page:
// (function (rrweb, events, queries) {...}) -> Promise of [[x, y, w, h] | null, ...]
(function plainRrwebBoxes(rrweb, events, queries) {
  var root = document.createElement("div");
  root.style.cssText = "position:absolute;left:0;top:0";
  document.body.appendChild(root);
  var replayer = new rrweb.Replayer(events, { root: root, mouseTail: false, showWarning: false });
  replayer.iframe.style.border = "0";
  return new Promise(function (resolve) { setTimeout(resolve, 50); }).then(function () {
    var out = queries.map(function (q) {
      replayer.pause(q.offset);
      var node = replayer.getMirror().getNode(q.id);
      if (!node || !node.getBoundingClientRect) return null;
      var r = node.getBoundingClientRect(), w = replayer.iframe.contentWindow;
      return [r.left + w.scrollX, r.top + w.scrollY, r.width, r.height];
    });
    replayer.destroy();
    root.remove();
    return out;
  });
})
