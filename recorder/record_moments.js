// Part of recorder/record.js, joined into its function (one scope) by plumbing.assets.page_script.
// Moments: transitions and animations running, and what is in the top layer (replay/moments.js reads both).
  // --- moments: how far along each transition and animation was -------------------------------
  // A replay cut at a click must show transitions as far along as the visitor saw them, not
  // finished. Notes (TAGS.ANIMATIONS) say what was running, each item
  // with its start in this page's document-timeline ms (so the replay can set its currentTime,
  // delay included), and a transition with its keyframes and timing (a replay that rebuilt the page
  // has no before-change style to start one from). Written when one begins (transitionrun,
  // animationstart; shadow roots do not pass these to the document, so each open root is listened
  // to), when recording starts, and before each click with everything running then: a transition
  // that the click's own style update created announces itself only at the next frame.
  function describeAnimation(a, now) { // a note's item for Animation `a`, or null
    var effect = a.effect, target = effect && effect.target;
    if (!target || a.playState === "idle" || a.playState === "finished" || a.currentTime === null) return null;
    var transition = typeof a.transitionProperty === "string";
    if (!transition && typeof a.animationName !== "string") return null; // a script's: not in any CSS
    var id = rrweb.record.mirror.getId(target);
    if (!(id > 0)) return null;
    var item = { id: id, kind: transition ? "transition" : "animation",
                 name: transition ? a.transitionProperty : a.animationName,
                 start: Math.round((now - a.currentTime) * 1000) / 1000 };
    if (effect.pseudoElement) item.pseudo = effect.pseudoElement;
    if (a.playState === "paused") item.held = a.currentTime; // animation-play-state: paused
    if (transition) { // a transition's two keyframes, from and to, in the keyframe's own key
      var t = effect.getTiming(), frames = effect.getKeyframes(), key = null;
      for (var k in frames[0]) {
        if (k !== "offset" && k !== "easing" && k !== "composite" && k !== "computedOffset") key = k;
      }
      if (frames.length !== 2 || key === null) return null;
      item.timing = { delay: t.delay, duration: t.duration, easing: t.easing };
      item.key = key;
      item.values = [frames[0][key], frames[1][key]];
    }
    return item;
  }

  function noteAnimations(list) {
    var now = document.timeline && document.timeline.currentTime;
    if (now === null || now === undefined) return;
    var running = [];
    list.forEach(function (a) {
      try { var item = describeAnimation(a, now); if (item) running.push(item); } catch (e) { /* gone */ }
    });
    if (running.length) custom(TAGS.ANIMATIONS, { at: now, running: running });
  }

  function everyAnimation() { // document.getAnimations() leaves shadow trees out
    var all = [];
    watchedRoots.forEach(function (root) {
      // A root whose host left the page is let go (the Set would keep it alive); its own listeners
      // stay, so a component put back still notes its transitions as they begin.
      if (root !== document && !root.host.isConnected) { watchedRoots.delete(root); return; }
      try { all = all.concat(root.getAnimations()); } catch (e) { /* no Web Animations */ }
    });
    return all;
  }

  // transitionrun and animationstart only say that something began: what began is read from
  // getAnimations() once per task for all of them. Asking the element in each event's listener
  // cost 12 ms an event (a style update each time): 7 s for 300 boxes toggling two properties.
  var noted = new WeakSet(); // Animations already noted as begun
  var lookScheduled = false;
  function animationBegan() {
    if (!started || lookScheduled) return;
    lookScheduled = true;
    setTimeout(noteBegun, 0);
  }
  function noteBegun() {
    lookScheduled = false;
    var fresh = [], waiting = null;
    everyAnimation().forEach(function (a) {
      if (noted.has(a)) return;
      // Still pending, it has no start time yet (its currentTime holds at 0): look again once it has.
      if (a.pending) { waiting = waiting || a; return; }
      noted.add(a);
      fresh.push(a);
    });
    noteAnimations(fresh);
    if (waiting) waiting.ready.then(animationBegan, function () {});
  }

  // One that stopped before its end without another taking over (a hover left where only :hover
  // declares the transition, an element hidden) is noted as ended: otherwise the replay would go on
  // remaking it for the rest of its duration.
  function animationCancelled(ev) {
    var now = document.timeline && document.timeline.currentTime;
    var id = started && ev.target ? rrweb.record.mirror.getId(ev.target) : -1;
    if (!(id > 0) || now === null || now === undefined) return;
    var item = { id: id, kind: ev.type === "transitioncancel" ? "transition" : "animation",
                 name: ev.type === "transitioncancel" ? ev.propertyName : ev.animationName, start: now };
    if (ev.pseudoElement) item.pseudo = ev.pseudoElement;
    custom(TAGS.ANIMATIONS, { at: now, running: [], ended: [item] });
  }

  listenInRoots("transitionrun", animationBegan);
  listenInRoots("animationstart", animationBegan);
  listenInRoots("transitioncancel", animationCancelled);
  listenInRoots("animationcancel", animationCancelled);
  afterSnapshot(noteBegun); // what runs as recording starts (after the roots are found)
  ["pointerdown", "click", "dblclick", "contextmenu"].forEach(function (name) {
    addEventListener(name, function () { if (started) noteAnimations(everyAnimation()); }, true);
  });

  // --- the top layer: open popovers and modal dialogs ---------------------------------------------
  // showPopover() (or a popovertarget button) changes no attribute, and showModal() only sets
  // `open`, as a plain show() does: rrweb records neither a popover opening nor a dialog being
  // modal. Notes (TAGS.TOP_LAYER) say when each opened and closed, and
  // whether modally: on `toggle` (not composed: listened to in every open root), on showModal()
  // (browsers whose dialogs fire no toggle), and for what is open when recording starts.
  function inTopLayer(el) { // {popover, modal} of an element that can be in the top layer, or null
    var popover = el.hasAttribute("popover");
    if (!popover && el.tagName !== "DIALOG") return null; // (a <details> toggles too: rrweb sees `open`)
    var state = { popover: popover, open: false, modal: false };
    try { state.open = popover ? el.matches(":popover-open") : el.open; } catch (e) { return null; }
    try { state.modal = el.tagName === "DIALOG" && el.matches(":modal"); } catch (e) { /* no :modal */ }
    return state;
  }

  function noteTopLayer(el) {
    var state = el && el.hasAttribute && inTopLayer(el), id = state && rrweb.record.mirror.getId(el);
    if (!(id > 0)) return;
    custom(TAGS.TOP_LAYER, { id: id, open: state.open, modal: state.modal, popover: state.popover });
  }
  listenInRoots("toggle", function (ev) { if (started) noteTopLayer(ev.target); });
  var showModal = window.HTMLDialogElement && HTMLDialogElement.prototype.showModal;
  if (showModal) {
    HTMLDialogElement.prototype.showModal = function () {
      var result = showModal.apply(this, arguments);
      try { if (started) noteTopLayer(this); } catch (e) { /* never into the page */ }
      return result;
    };
  }
  afterSnapshot(function () {
    watchedRoots.forEach(function (root) {
      root.querySelectorAll("[popover], dialog[open]").forEach(function (el) {
        var state = inTopLayer(el);
        if (state && state.open && (state.popover || state.modal)) noteTopLayer(el);
      });
    });
  });
