// Test evidence for clicks inside a shadow root: the document's evidence sees only the host, so
// each page hands its root here and the test reads window.shadowClicks, the box (document px) of
// what each click hit, measured at dispatch.
window.shadowClicks = [];
window.watchShadowClicks = function (root) {
  root.addEventListener("click", function (ev) {
    var r = ev.composedPath()[0].getBoundingClientRect();
    window.shadowClicks.push([r.left + scrollX, r.top + scrollY, r.width, r.height]);
  }, true);
};
