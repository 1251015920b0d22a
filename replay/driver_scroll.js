// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// Scroll positions, of the window and of inner scrollers: noted while catching up, applied
// at the cut (see driver_events.js, cast, for the recorder's scroll notes).
  // --- scroll bookkeeping ------------------------------------------------------------------------
  var scrolls = new Map(); // node id -> {x, y}: where each scroller should be at the cut
  var stated = new Map(); // node id -> time of the recorder's last scroll note for it (see cast)
  var applyScroll = rrweb.Replayer.prototype.applyScroll.bind(replayer); // not a previous driver's
  replayer.applyScroll = function (d) { // noted now, applied at the cut (see restoreScrolls)
    scrolls.set(d.id, { x: d.x, y: d.y });
  };

  function collectSnapshotScrolls(node) {
    var a = node.attributes;
    if (a && (a.rr_scrollLeft || a.rr_scrollTop)) {
      scrolls.set(node.id, { x: a.rr_scrollLeft || 0, y: a.rr_scrollTop || 0 });
    }
    (node.childNodes || []).forEach(collectSnapshotScrolls);
  }

  function restoreScrolls(overrides, at) {
    scrolls.forEach(function (pos, id) {
      var o = overrides && overrides[id] && !(stated.get(id) >= at) && overrides[id];
      applyScroll({ id: id, x: o ? o.x : pos.x, y: o ? o.y : pos.y }, true);
    });
  }
