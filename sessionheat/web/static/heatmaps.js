/* Heatmap explorer: follow background jobs until they finish, and go from an element (in the
   table or on the map) to the sessions that clicked it. Plain JS, no framework; every link still
   works without it. */
(function () {
  "use strict";

  var POLL_MS = 800;

  /* -- background jobs: poll the status, show progress, reload when done ------------------- */

  function followJob(box) {
    var url = box.getAttribute("data-status-url");
    var stage = box.querySelector(".hm-job-stage");
    var count = box.querySelector(".hm-job-count");
    var ahead = box.querySelector(".hm-job-ahead");
    var bar = box.querySelector("progress");
    function poll() {
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { window.location.reload(); return; }
          if (stage) { stage.textContent = s.stage; }
          if (ahead) { ahead.textContent = s.ahead ? "(" + s.ahead + " job" + (s.ahead === 1 ? "" : "s") + " ahead)" : ""; }
          if (count) { count.textContent = s.total ? s.done + " of " + s.total : ""; }
          if (bar && s.total) { bar.max = s.total; bar.value = s.done; }
          if (s.state === "done" || s.state === "failed") { window.location.reload(); return; }
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
    }
    window.setTimeout(poll, POLL_MS);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-status-url]"), followJob);

  /* -- elements: table rows and map boxes ---------------------------------------------------- */

  var panel = document.getElementById("hm-sessions");
  var rows = Array.prototype.slice.call(document.querySelectorAll(".hm-elements tr[data-box]"));
  var maps = Array.prototype.slice.call(document.querySelectorAll("img.hm-map"));
  if (!panel) { return; }

  function boxOf(row) {
    var v = row.getAttribute("data-box").split(",").map(Number);
    return { x: v[0], y: v[1], w: v[2], h: v[3] };
  }

  function outline(key) {
    /* A rectangle over the element on every map, placed in % so it follows the image's size. */
    maps.forEach(function (img) {
      var canvas = img.parentNode;
      var mark = canvas.querySelector(".hm-mark");
      var row = rows.filter(function (r) { return r.getAttribute("data-element-key") === key; })[0];
      if (!row) { if (mark) { mark.hidden = true; } return; }
      if (!mark) {
        mark = document.createElement("div");
        mark.className = "hm-mark";
        canvas.appendChild(mark);
      }
      var b = boxOf(row);
      var top = Number(img.getAttribute("data-legend-height")) || 0;
      var W = img.naturalWidth || Number(img.getAttribute("width"));
      var H = img.naturalHeight || Number(img.getAttribute("height"));
      mark.style.left = (100 * b.x / W) + "%";
      mark.style.top = (100 * (b.y + top) / H) + "%";
      mark.style.width = (100 * b.w / W) + "%";
      mark.style.height = (100 * b.h / H) + "%";
      mark.hidden = false;
    });
  }

  function choose(key, href, fromTable) {
    document.querySelectorAll("tr.hm-chosen").forEach(function (r) { r.classList.remove("hm-chosen"); });
    document.querySelectorAll('tr[data-element-key="' + CSS.escape(key) + '"]').forEach(function (r) {
      r.classList.add("hm-chosen");
    });
    outline(key);
    var mark = document.querySelector(".hm-canvas .hm-mark:not([hidden])");
    if (fromTable && mark) { mark.scrollIntoView({ block: "center", behavior: "smooth" }); }
    panel.textContent = "Loading the sessions…";
    fetch(href + (href.indexOf("?") < 0 ? "?" : "&") + "fragment=1", { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        /* Our own server-rendered fragment (escaped by Jinja); scripts in it would not run anyway. */
        panel.innerHTML = html;
        panel.focus();
      })
      .catch(function () { panel.textContent = "Could not load the sessions; follow the element's link instead."; });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.hm-element");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    var row = link.closest("tr[data-element-key]");
    if (!row) { return; }
    event.preventDefault();
    choose(row.getAttribute("data-element-key"), link.getAttribute("href"), true);
  });

  /* A click on the map: the innermost element box under that page point. */
  function elementAt(img, event) {
    var rect = img.getBoundingClientRect();
    var W = img.naturalWidth, H = img.naturalHeight;
    var x = (event.clientX - rect.left) * W / rect.width;
    var y = (event.clientY - rect.top) * H / rect.height - (Number(img.getAttribute("data-legend-height")) || 0);
    var best = null, bestArea = Infinity;
    rows.forEach(function (row) {
      var b = boxOf(row);
      if (x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h && b.w * b.h < bestArea) {
        best = row;
        bestArea = b.w * b.h;
      }
    });
    return best;
  }

  maps.forEach(function (img) {
    img.classList.add("hm-clickable");
    img.addEventListener("click", function (event) {
      var row = elementAt(img, event);
      if (!row) {
        outline("");
        panel.textContent = "No clicked element there. Choose a highlighted spot, or an element in the table.";
        return;
      }
      choose(row.getAttribute("data-element-key"), row.querySelector("a.hm-element").getAttribute("href"));
    });
  });
})();
