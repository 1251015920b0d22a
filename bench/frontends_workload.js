// Recording overhead on the Shoelace page: components made, restyled and removed, timed by the page
// itself (performance.now), so browser start and navigation are not part of the figure. Each round
// adds a card of components (each a new shadow root with adopted style sheets), switches a tab,
// opens a details, and drops the oldest card past 20; it waits for the components to render and
// for a timer turn (so mutation observers, rrweb's among them, have run) before the next.
// (async function (rounds) {...}) -> {ms}
(async function shoelaceWorkload(rounds) {
  var tags = ["sl-card", "sl-button", "sl-badge", "sl-tag", "sl-details", "sl-icon", "sl-tab-group"];
  var warm = document.createElement("div");
  warm.innerHTML = tags.map(function (t) { return "<" + t + "></" + t + ">"; }).join("");
  document.body.append(warm);
  await Promise.all(tags.map(function (t) { return customElements.whenDefined(t); }));
  warm.remove();
  var host = document.createElement("div");
  document.querySelector("main").append(host);
  var tabs = document.getElementById("tabs");
  var panels = ["overview", "usage", "limits"];
  var start = performance.now();
  for (var i = 0; i < rounds; i++) {
    var card = document.createElement("sl-card");
    card.innerHTML = '<strong slot="header">Card ' + i + '</strong><sl-badge variant="primary">' + i +
      '</sl-badge> <sl-tag size="small">tag ' + i + '</sl-tag><sl-details summary="More ' + i + '">Body ' + i +
      '</sl-details><sl-button slot="footer" size="small"><sl-icon slot="prefix" name="gear"></sl-icon>Go</sl-button>';
    host.append(card);
    tabs.show(panels[i % 3]);
    card.querySelector("sl-details").open = i % 2 === 0;
    card.querySelector("sl-button").variant = i % 2 ? "primary" : "default";
    if (host.children.length > 20) host.firstElementChild.remove();
    await card.updateComplete;
    await new Promise(function (done) { setTimeout(done, 0); });
  }
  document.body.getBoundingClientRect();
  return { ms: performance.now() - start };
})
