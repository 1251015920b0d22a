// The plain rrweb Replayer, for pictures to compare with ours: default options, a seek is
// pause(timeOffset), as a tool built directly on rrweb would do. Evaluated in a replay host page:
// (function (rrweb, events) {...}) builds one above our own replay frame and keeps it in
// window.__plainReplayer; `null` as events takes it down again.
(function plainRrwebReplayer(rrweb, events) {
  var old = window.__plainReplayer;
  if (old) {
    old.destroy();
    document.getElementById("plain-rrweb-root").remove();
    window.__plainReplayer = null;
  }
  if (!events) return null;
  var root = document.createElement("div");
  root.id = "plain-rrweb-root";
  root.style.cssText = "position:absolute;left:0;top:0;z-index:10;background:#fff";
  document.body.appendChild(root);
  var replayer = new rrweb.Replayer(events, { root: root, mouseTail: false, showWarning: false });
  replayer.iframe.style.border = "0";
  window.__plainReplayer = replayer;
  return null;
})
