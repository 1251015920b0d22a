/* The session page: timeline entries jump the player (postMessage), and the player's position
   comes back to mark where the replay is. Messages go only to the player's origin, and are
   accepted only from the player iframe's window, from that origin, in the shapes below. */
(function () {
  "use strict";
  var frame = document.getElementById("player");
  if (!frame) return;
  var output = document.getElementById("player-time");
  // Shown over the frame until the player says it is ready: parsing a long recording takes seconds.
  var loading = document.getElementById("player-loading");
  var entries = Array.prototype.slice.call(document.querySelectorAll("#timeline button.tl-entry[data-t]"));
  var duration = Number(frame.dataset.duration) || 0;
  // The player is served from an origin of its own when it can be (see sessions_ui.py).
  var playerOrigin = frame.dataset.origin || window.location.origin;

  function clock(ms) {
    var s = Math.max(0, ms) / 1000;
    var m = Math.floor(s / 60);
    s = s - m * 60;
    return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }

  // A bar under the player with a mark per timeline entry (the list beside it is the accessible
  // version of the same thing; the bar is for the eye and the mouse).
  var track = document.getElementById("track");
  var now = document.getElementById("track-now");
  function percent(t) { return duration > 0 ? Math.max(0, Math.min(100, 100 * t / duration)) : 0; }
  if (track) {
    entries.forEach(function (button) {
      var mark = document.createElement("span");
      mark.className = "track-mark track-" + button.dataset.kind;
      mark.style.left = percent(Number(button.dataset.t)) + "%";
      mark.title = button.querySelector(".tl-time").textContent + " " + button.querySelector(".tl-label").textContent;
      mark.addEventListener("click", function () { button.click(); });
      track.appendChild(mark);
    });
  }

  var chosen = null;  // the timeline entry last chosen

  function mark(t) {
    if (now) now.style.left = percent(t) + "%";
    output.textContent = clock(t);
    output.dataset.t = String(t);
    var current = null;
    entries.forEach(function (b) { if (Number(b.dataset.t) <= t) current = b; });
    // Entries can share a millisecond (a click, the route change and the redraw it caused): the
    // one the person chose stays marked.
    if (chosen && current && chosen.dataset.t === current.dataset.t) current = chosen;
    entries.forEach(function (b) {
      if (b === current) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    });
  }

  function send(message) {
    frame.contentWindow.postMessage(message, playerOrigin);
  }

  entries.forEach(function (button) {
    button.addEventListener("click", function () {
      var t = Number(button.dataset.t);
      if (!isFinite(t)) return;
      send({ type: "sessionheat:seek", t: Math.max(0, Math.min(duration, t)) });
      chosen = button;
      mark(t);
      var url = new URL(window.location.href);
      url.searchParams.set("t", String(t));
      window.history.replaceState(null, "", url.toString());
    });
  });

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== playerOrigin) return;
    var data = event.data;
    if (!data || typeof data !== "object") return;
    if ((data.type === "sessionheat:time" || data.type === "sessionheat:ready")
        && typeof data.t === "number" && isFinite(data.t)) {
      mark(Math.max(0, Math.min(duration, data.t)));
      if (data.type === "sessionheat:ready") {
        frame.dataset.ready = "true";
        if (loading) loading.hidden = true;
      }
    } else if (data.type === "sessionheat:state" && (data.state === "playing" || data.state === "paused")) {
      frame.dataset.state = data.state;
    } else if (data.type === "sessionheat:error" && typeof data.reason === "string") {
      output.textContent = data.reason.slice(0, 200);
      if (loading) {
        loading.textContent = data.reason.slice(0, 200);
        loading.classList.add("failed");
      }
    }
  });

  mark(Number(frame.dataset.start) || 0);
})();
