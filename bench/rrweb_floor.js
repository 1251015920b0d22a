// The floor rrweb itself sets: record into an in-page array, no transport at all. Same options as
// recorder/record.js, so the only difference from our recorder is getting events out of the page.
(function (rrweb) {
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  window.__floorEvents = [];
  rrweb.record({
    emit: function (event) { window.__floorEvents.push(event); },
    recordAfter: "DOMContentLoaded",
    maskAllInputs: true,
    maskInputOptions: { password: true },
    blockSelector: "[data-sessionheat-block]",
    maskTextSelector: "[data-sessionheat-mask]",
    inlineStylesheet: true,
    collectFonts: true,
    recordCanvas: false,
  });
})
