// Part of replay/driver.js, joined into its function (one scope) by plumbing.assets.page_script.
// Settling a moment: the replayed documents, and what `settle` applies at a cut and in which
// order (hover and focus, scrolls, resources, animations).
  // --- settling ----------------------------------------------------------------------------------
  function doc() { return iframe.contentDocument; }
  function win() { return iframe.contentWindow; }

  function documents() { // the replayed document and every same-origin iframe document in it
    var out = [], stack = [doc()];
    while (stack.length) {
      var d = stack.pop();
      if (!d) continue;
      out.push(d);
      var frames = d.getElementsByTagName("iframe"); // live, kept by the document: asked per moment
      for (var k = 0; k < frames.length; k++) {
        try { if (frames[k].contentDocument) stack.push(frames[k].contentDocument); } catch (e) { /* cross-origin */ }
      }
    }
    return out;
  }

  // What the last settle left: the events up to it that could move anything (see `moved`), and
  // whether scroll hints overrode the positions noted.
  var settled = { moved: -1, overridden: false };

  // `skip` names fixes to leave out (for measuring what each one is worth): "scroll", "hover",
  // "focus", "animations", "resources". `layoutOnly`: the caller measures boxes, not pixels.
  // `at`: the moment in epoch ms, at or after the cut's event (default: that event's time).
  function settle(cut, overrides, timeoutMs, skip, layoutOnly, at) {
    skip = skip || [];
    var on = function (name) { return skip.indexOf(name) < 0; };
    var hinted = !!overrides && Object.keys(overrides).length > 0;
    // A scroll note of this interaction (within one rrweb scroll sampling window, 100 ms, before the
    // cut) says where a scroller was; a sampled emission after the cut only guesses.
    var noteSince = events[cut].timestamp - 100;
    // Hover and focus first: the layout that restoring the scroll positions forces is then the
    // only one they all pay for. When measuring, they are left alone on pages where they only
    // paint. Scrolls are applied again only after something that can have changed how far the
    // page scrolls (a resource arriving, hover, a finished transition); and none of it when
    // nothing has changed since the last settle (a pointer moving over a still page).
    var none = { pointer: null, hitTest: false, changed: false };
    var hovered = on("hover") && !(layoutOnly && !movesBoxes("hover")) ? applyHover(events[cut].timestamp, cut) : none;
    var focused = on("focus") ? applyFocus(layoutOnly) : (focusEvents = [], false);
    var changed = moved[cut] !== settled.moved || hovered.changed || focused || hinted || settled.overridden;
    settled = { moved: moved[cut], overridden: hinted };
    if (changed && on("scroll")) restoreScrolls(overrides, noteSince);
    var waiting = on("resources") && mayLoad;
    var loaded = waiting ? waitResources(timeoutMs) : Promise.resolve(true);
    return loaded.then(function (complete) {
      if (waiting) mayLoad = !complete; // still on its way: ask again next time
      var again = waiting; // the layout may have changed since the scrolls were applied
      if (hovered.hitTest) { // a hit test on the settled page
        if (again && on("scroll")) restoreScrolls(overrides, noteSince);
        again = hoverByHitTest(hovered.pointer);
      }
      // (Animations set mid-way at the last moment are set again: this one's time differs.)
      if ((changed || waiting || again || moments.timed()) && on("animations")
          && moments.animations(cut, Math.max(at || 0, events[cut].timestamp))) again = true;
      if (again && on("scroll")) restoreScrolls(overrides, noteSince);
      var p = hovered.pointer;
      return { complete: complete, pointer: p ? [p.x, p.y] : null };
    });
  }
