// sessionheat replay moments: what the replay driver sets at a cut besides the DOM, so that the
// page shows that moment and not an end state. Loaded beside driver.js (see replay/host.py).
// Evaluated as an expression: (function (events, ctx) {...}) -> moments, where ctx gives the
// driver's view: segmentOf(index), mirror(), documents(), isNote(event, tag).
//
// Transitions and animations: the recorder notes (TAGS.ANIMATIONS) what ran in each page load,
// with the document-timeline ms each one's currentTime counts from, and the timeline's time at
// the note. At a cut the page's timeline time is extrapolated from the nearest note (exact at a
// click, which writes its own), and each transition or CSS animation is frozen as far along as it
// was; one without a note (recorded before there were notes, or long over) is finished.
//
// The top layer: popovers shown and dialogs shown modally, which rrweb cannot see (below).
(function sessionheatMoments(events, ctx) {
  "use strict";

  // --- indices over the notes, per page load (full snapshot index) ------------------------------
  var clocks = new Map(); // segment -> [{index, ts, at}]: timeline time `at` at event time `ts`
  var began = new Map(); // segment -> Map(key -> [item, ...] in note order); item.start: timeline ms
  events.forEach(function (e, index) {
    if (!ctx.isNote(e, TAGS.ANIMATIONS) || !e.data.payload) return;
    var p = e.data.payload, seg = ctx.segmentOf(index);
    if (typeof p.at !== "number" || !Array.isArray(p.running)) return;
    if (!clocks.has(seg)) { clocks.set(seg, []); began.set(seg, new Map()); }
    clocks.get(seg).push({ index: index, ts: e.timestamp, at: p.at });
    var keys = began.get(seg);
    function add(item, ended) {
      if (!item || typeof item.start !== "number" || typeof item.id !== "number") return;
      var key = keyOf(item.id, item.kind, item.pseudo, item.name);
      if (!keys.has(key)) keys.set(key, []);
      keys.get(key).push(ended ? { start: item.start, ended: true } : item); // ended: cancelled then
    }
    p.running.forEach(function (item) { add(item, false); });
    (Array.isArray(p.ended) ? p.ended : []).forEach(function (item) { add(item, true); });
  });

  function keyOf(id, kind, pseudo, name) { return id + " " + kind + " " + (pseudo || "") + " " + name; }

  // The page's document-timeline time at event `cut` (epoch ms `t`), or null if nothing says.
  function pageTime(seg, cut, t) {
    var list = clocks.get(seg);
    if (!list) return null;
    var near = null;
    for (var k = 0; k < list.length; k++) {
      if (list[k].index > cut) { if (!near) near = list[k]; break; }
      near = list[k];
    }
    return near.at + (t - near.ts);
  }

  // The noted run of `key` under way at timeline time `now`: of the notes saying it had started by
  // then, the last written (a later note of the same run knows its start better: one that was
  // still pending at an earlier note counted from that note's time).
  function runAt(seg, key, now) {
    var list = began.get(seg) && began.get(seg).get(key), found = null;
    if (!list) return null;
    for (var k = 0; k < list.length; k++) if (list[k].start <= now) found = list[k];
    return found && !found.ended ? found : null; // (one cancelled by then is over)
  }

  // --- freezing ----------------------------------------------------------------------------------
  // Frozen with a playback rate of 0, not paused: a screenshot that disables animations (Playwright's
  // `animations="disabled"`) fast-forwards every animation it finds except those, so what it
  // photographs is the moment set here, and an animation the driver did not set still ends.
  function freeze(a, progress) {
    a.currentTime = progress;
    a.playbackRate = 0;
  }

  function finish(a) { // whether anything changed
    var timing = a.effect && a.effect.getComputedTiming();
    if (!timing || !isFinite(timing.endTime) || a.playState === "finished") return false;
    if (a.playbackRate === 0) a.playbackRate = 1; // (finish() refuses a rate of 0)
    a.finish();
    return true;
  }

  var made = []; // transitions remade from their keyframes at the last cut: gone at the next
  var frozenAny = false;

  function kindOf(a) {
    if (typeof a.transitionProperty === "string") return "transition";
    if (typeof a.animationName === "string") return "animation";
    return null;
  }

  function rootsOf(seg) { // the documents, and the shadow roots that noted nodes live in
    var roots = ctx.documents().slice(), keys = began.get(seg), mirror = ctx.mirror(), seen = new Set();
    if (keys) keys.forEach(function (items, key) {
      var node = mirror.getNode(Number(key.split(" ")[0])), root = node && node.getRootNode && node.getRootNode();
      if (root && root.host && !seen.has(root)) { seen.add(root); roots.push(root); }
    });
    return roots;
  }

  // Sets every transition and animation of the replayed page as far along as it was at event
  // `cut` (epoch ms `t`, at or after its timestamp). Returns whether anything changed.
  function applyAnimations(cut, t) {
    var seg = ctx.segmentOf(cut), now = pageTime(seg, cut, t), changed = made.length > 0;
    made.forEach(function (a) { try { a.cancel(); } catch (e) { /* gone */ } });
    made = [];
    var frozen = false, mirror = ctx.mirror();
    rootsOf(seg).forEach(function (root) {
      if (!root.getAnimations) return;
      root.getAnimations().forEach(function (a) {
        try {
          var kind = kindOf(a), effect = a.effect, run = null;
          if (kind === "animation" && now !== null && effect && effect.target) {
            run = runAt(seg, keyOf(mirror.getId(effect.target), kind, effect.pseudoElement, a.animationName), now);
          }
          var progress = run ? (typeof run.held === "number" ? run.held : now - run.start) : null;
          var end = effect ? effect.getComputedTiming().endTime : 0;
          if (progress !== null && progress < end) {
            freeze(a, progress);
            frozen = changed = true;
          } else if (finish(a)) changed = true; // transitions are remade below when they ran
        } catch (e) { /* detached, or infinite */ }
      });
    });
    // Transitions under way, remade from their recorded keyframes: a replay that rebuilt the page,
    // or changed the style in the same step as the hover that started one, has none of its own.
    // Script animations come after transitions in the cascade, so these win over what CSS says.
    var keys = now === null ? null : began.get(seg);
    if (keys) keys.forEach(function (items, key) {
      if (key.split(" ")[1] !== "transition") return;
      var run = runAt(seg, key, now), timing = run && run.timing;
      if (!timing || !run.key || !Array.isArray(run.values) || run.values.length !== 2) return;
      var progress = now - run.start;
      if (progress >= timing.delay + timing.duration) return;
      var node = mirror.getNode(run.id);
      if (!node || node.nodeType !== 1 || !node.isConnected) return;
      try {
        var options = { duration: timing.duration, delay: timing.delay, easing: timing.easing, fill: "backwards" };
        if (run.pseudo) options.pseudoElement = run.pseudo;
        var from = {}, to = {};
        from[run.key] = run.values[0];
        to[run.key] = run.values[1];
        var a = node.animate([from, to], options);
        freeze(a, progress);
        made.push(a);
        frozen = changed = true;
      } catch (e) { /* a keyframe the replaying browser does not take */ }
    });
    frozenAny = frozen;
    return changed;
  }

  // --- the top layer -------------------------------------------------------------------------
  // The recorder notes (TAGS.TOP_LAYER) each popover and dialog entering or leaving the top layer;
  // rrweb's own events show no popover open and a modal dialog as an open one in the flow. At a cut
  // each noted element is put in the state its last note says, opened in the order it was.
  var layered = new Map(); // segment -> [{index, id, open, modal}] in event order
  events.forEach(function (e, index) {
    if (!ctx.isNote(e, TAGS.TOP_LAYER) || !e.data.payload || typeof e.data.payload.id !== "number") return;
    var seg = ctx.segmentOf(index), p = e.data.payload;
    if (!layered.has(seg)) layered.set(seg, []);
    layered.get(seg).push({ index: index, id: p.id, open: !!p.open, modal: !!p.modal });
  });

  function applyTopLayer(cut) { // whether anything changed
    var notes = layered.get(ctx.segmentOf(cut));
    if (!notes) return false;
    var last = new Map(); // id -> its last note up to the cut, in the order of those notes
    for (var k = 0; k < notes.length && notes[k].index <= cut; k++) {
      last.delete(notes[k].id);
      last.set(notes[k].id, notes[k]);
    }
    var mirror = ctx.mirror(), changed = false;
    last.forEach(function (note) {
      var el = mirror.getNode(note.id);
      if (!el || el.nodeType !== 1 || !el.isConnected) return;
      try {
        if (el.hasAttribute("popover")) {
          var shown = el.matches(":popover-open");
          if (note.open && !shown) { el.showPopover(); changed = true; }
          else if (!note.open && shown) { el.hidePopover(); changed = true; }
        } else if (el.tagName === "DIALOG" && note.open && note.modal && el.open && !el.matches(":modal")) {
          // rrweb opened it in the flow, from its `open` attribute. (Closed, it has none: the note
          // of its closing comes a task after rrweb removed the attribute, and the driver's
          // closeStrayDialogs has taken it off the top layer.)
          el.close();
          el.showModal();
          changed = true;
        }
      } catch (e) { /* not in a state the browser can toggle */ }
    });
    return changed;
  }

  return {
    topLayer: applyTopLayer,
    animations: applyAnimations,
    timed: function () { return frozenAny; }, // whether the last cut froze something mid-way
  };
})
