// sessionheat snippet: records this tab with rrweb and sends numbered chunks to the collector.
//   <script src="https://collector.example/snippet.js" data-site="SITE_KEY" async></script>
// Options, as data-* attributes of that tag:
//   data-site        the site key (required)
//   data-sample      share of tabs recorded, 0..1 (default 1), decided once per tab session
//   data-mask-inputs "false" records what is typed (password fields stay masked); default masked
//   data-flush-ms    how often a chunk is sent (default 2000)
//   data-endpoint    the collector's origin (default: where this file was loaded from)
//   data-canvas      "false" leaves canvas drawings unrecorded; a number: ms between pictures of a
//                    canvas being drawn on (default 1000; also taken at each pointerdown and click)
//   data-visitors    "false": keep no visitor note in this browser (e.g. until the visitor consents),
//                    and remove one kept before. A note is only ever kept for a site whose policy
//                    says so (`sessionheat sites set NAME --remember-visitors`)
// Page API: sessionheat.set({variant: "B"}), sessionheat.identify(userId, props),
// sessionheat.event(name, data). Calls made before this file loads can be queued as
// (window.sessionheat = window.sessionheat || {q: []}).q.push(["set", [{variant: "B"}]]).
// Contract with the page: never throw, never block, never break it when the collector is down.
(function () {
  "use strict";
  var w = window;
  if (w.__sessionheatSnippet || w.top !== w || !/^https?:$/.test(location.protocol)) return;
  w.__sessionheatSnippet = true;
  var noop = function () {};
  var api = (w.sessionheat = w.sessionheat || {});
  var queued = api.q || [];
  api.set = api.identify = api.event = api.flush = noop;
  api.pending = function () { return 0; };
  api.version = "/*@VERSION@*/";

  try {
    var script = document.currentScript || document.querySelector("script[data-site][src*='snippet.js']");
    var site = script && script.getAttribute("data-site");
    if (!site) return;
    var attr = function (name, fallback) {
      var value = script.getAttribute("data-" + name);
      return value === null || value === "" ? fallback : value;
    };
    var endpoint = attr("endpoint", new URL(script.src, location.href).origin).replace(/\/+$/, "");
    var sample = parseFloat(attr("sample", "1"));
    var flushMs = Math.max(200, parseInt(attr("flush-ms", "2000"), 10) || 2000);
    var maskInputs = attr("mask-inputs", "true") !== "false";
    var canvasAttr = attr("canvas", "1000");
    var canvas = canvasAttr === "false" ? false : { intervalMs: parseInt(canvasAttr, 10) || 1000 };
    var visitorsAllowed = attr("visitors", "true") !== "false";
  } catch (e) {
    return;
  }

  var IDLE_MS = 30 * 60 * 1000; // a tab idle this long starts a new session
  var KEEPALIVE_BYTES = 60000; // browsers cap keepalive request bodies at 64 KiB in flight
  var PERSIST_BYTES = 1000000; // at most this much of our backlog is kept in sessionStorage
  var MAX_BACKLOG_BYTES = 8000000; // past this, recording stops rather than eat the page's memory
  var prefix = "sessionheat:" + site + ":";

  // sessionStorage is per tab and survives navigations: that is what makes one session of them.
  // It can be absent or full (private modes, quota): then the session lives for this page only.
  var memory = {};
  var storage = {
    get: function (k) {
      try { return sessionStorage.getItem(prefix + k); } catch (e) { return memory[k] || null; }
    },
    set: function (k, v) {
      try { sessionStorage.setItem(prefix + k, v); return true; } catch (e) { memory[k] = v; return false; }
    },
    remove: function (k) {
      try { sessionStorage.removeItem(prefix + k); } catch (e) { delete memory[k]; }
    },
  };

  function newId() { // never starting with "-", which a command line would take for an option
    var bytes = new Uint8Array(16), id;
    do {
      crypto.getRandomValues(bytes);
      id = btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    } while (id.charAt(0) === "-");
    return id;
  }

  // The visitor note: whether this browser came to this site before (visitor = new | returning). It
  // is kept in localStorage under this site's key (per origin: another site never sees it) and
  // holds a random id and when it was first written; neither leaves the browser, only new or
  // returning and the day first seen do. It is written only once the collector has answered that
  // the site keeps visitor notes, and removed when it answers that the site does not.
  var noteKey = prefix + "visitor";
  function readNote() {
    try {
      var note = JSON.parse(localStorage.getItem(noteKey));
      return note && typeof note.first_seen === "number" ? note : null;
    } catch (e) { return null; }
  }
  function keepNote(keep) {
    try {
      if (!keep || !visitorsAllowed) localStorage.removeItem(noteKey);
      else if (!readNote()) localStorage.setItem(noteKey, JSON.stringify({ id: newId(), first_seen: Date.now() }));
    } catch (e) { /* storage refused: no note */ }
  }
  var heardPolicy = false;
  function hearPolicy(response) {
    if (heardPolicy || !response.ok) return;
    heardPolicy = true;
    response.json().then(function (answer) {
      if (answer && typeof answer.visitors === "boolean") keepNote(answer.visitors);
    }, noop);
  }
  if (!visitorsAllowed) keepNote(false);

  var now = Date.now();
  var sid = storage.get("sid");
  var visit = null; // set at a session's first page only: record.js reports it (TAGS.VISIT)
  if (!sid || !/^[A-Za-z0-9_-]{8,64}$/.test(sid) || now - (+storage.get("last") || 0) > IDLE_MS) {
    var note = visitorsAllowed ? readNote() : null;
    visit = !visitorsAllowed ? {} : note ? { visitor: "returning", first_seen: note.first_seen }
      : { visitor: "new", first_seen: now };
    sid = newId();
    storage.set("sid", sid);
    storage.set("seq", "0");
    storage.set("sampled", Math.random() < sample ? "1" : "0");
    storage.remove("outbox");
  }
  storage.set("last", String(now));
  if (storage.get("sampled") !== "1") return;

  // The backlog: every chunk not yet acknowledged, oldest first. A chunk keeps its number through
  // every retry and across navigations, so the collector stores each exactly once.
  var outbox = [];
  try { outbox = JSON.parse(storage.get("outbox") || "[]") || []; } catch (e) { outbox = []; }
  storage.remove("outbox");
  var backlogBytes = 0;
  outbox.forEach(function (c) { c.due = 0; c.tries = 0; backlogBytes += c.body.length; });
  var busy = false;
  var stopped = false;
  var timer = null;
  var recorder = null;

  // A duplicated tab starts with a copy of this tab's sessionStorage, hence the same session id and
  // chunk numbers: its chunks would collide with the original's and be refused. So each page asks
  // the other live pages of this site whether one of them holds this session; if one does, this tab
  // is a copy and forks a session of its own, renumbering the chunks this page made. Nothing is
  // sent until the question had time to be answered.
  var token = newId();
  var claimed = false;
  var channel = null;
  function fork() {
    sid = newId();
    storage.set("sid", sid);
    api.sessionId = sid;
    outbox = outbox.filter(function (c) { return c.mine; });
    backlogBytes = 0;
    outbox.forEach(function (c, i) { c.seq = i; backlogBytes += c.body.length; });
    storage.set("seq", String(outbox.length));
  }
  function openChannel() {
    if (typeof BroadcastChannel === "undefined") return;
    try {
      channel = new BroadcastChannel(prefix + "tabs");
      channel.onmessage = function (e) {
        var m = e.data || {};
        if (m.ask === sid && m.from !== token) channel.postMessage({ taken: sid, to: m.from });
        else if (m.taken === sid && m.to === token) fork();
      };
      channel.postMessage({ ask: sid, from: token });
    } catch (e) { channel = null; }
  }
  function closeChannel() {
    // An open channel would keep this page out of the back/forward cache.
    if (channel) { try { channel.close(); } catch (e) {} channel = null; }
  }
  openChannel();
  setTimeout(function () { claimed = true; pump(); }, channel ? 150 : 0);

  function chunkUrl(seq, gzip) {
    return endpoint + "/api/v1/sessions/" + sid + "/chunks/" + seq + "?site=" +
      encodeURIComponent(site) + (gzip ? "&enc=gzip" : "");
  }

  function settle(chunk, status) {
    // 2xx: stored (or stored before); 408/429/5xx or no answer: try again later; other 4xx: the
    // collector refuses this chunk for good, so retrying would only repeat the refusal.
    var retry = !status || status === 408 || status === 429 || status >= 500;
    if (!retry) {
      var i = outbox.indexOf(chunk);
      if (i >= 0) { outbox.splice(i, 1); backlogBytes -= chunk.body.length; }
      if (status >= 300) stop(chunk, status);
      return;
    }
    chunk.tries += 1;
    chunk.leaving = false;
    chunk.due = Date.now() + Math.min(30000, 1000 * Math.pow(2, chunk.tries - 1)) * (0.5 + Math.random() / 2);
  }

  // A refused chunk ends the session's recording in this tab: the next chunks would be refused
  // too (a session past its cap, a key or origin the collector refuses), and a session with a
  // missing chunk replays only up to the gap anyway. A new session starts after IDLE_MS.
  function stop(chunk, status) {
    if (stopped) return;
    stopped = true;
    if (recorder) { try { recorder.stop(); } catch (e) {} recorder = null; }
    outbox = [];
    backlogBytes = 0;
    storage.set("sampled", "0");
    storage.remove("outbox");
    if (w.console) console.warn("sessionheat: chunk " + chunk.seq + " refused (" + status + "); recording stopped");
  }

  function compressed(body) {
    if (typeof CompressionStream === "undefined" || body.length < 2048) return Promise.resolve(null);
    return new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer().catch(function () { return null; });
  }

  function post(chunk) {
    return compressed(chunk.body).then(function (gz) {
      return fetch(chunkUrl(chunk.seq, !!gz), {
        method: "POST", body: gz || chunk.body, mode: "cors", credentials: "omit",
        headers: { "Content-Type": "text/plain" }, // a "simple" request: no preflight per chunk
      });
    }).then(function (r) { hearPolicy(r); return r.status; }, function () { return 0; });
  }

  // One chunk in flight at a time, oldest first; failures wait out their back-off.
  function pump() {
    if (busy || !claimed || !outbox.length) return;
    var chunk = outbox[0];
    var wait = chunk.due - Date.now();
    if (wait > 0) {
      clearTimeout(timer);
      timer = setTimeout(pump, wait);
      return;
    }
    busy = true;
    post(chunk).then(function (status) {
      busy = false;
      settle(chunk, status);
      pump();
    });
  }

  // The page is going away (or hidden, which on phones is often the last chance): send what is
  // left with keepalive, which outlives the page, and keep a copy for this tab's next page, since
  // a keepalive request can still fail. A chunk sent twice is stored once.
  function leave() {
    var budget = claimed ? KEEPALIVE_BYTES : 0; // an unsettled page may still be a copy: keep, don't send
    outbox.forEach(function (chunk) {
      if (chunk.leaving || chunk.body.length > budget) return;
      chunk.leaving = true;
      budget -= chunk.body.length;
      try {
        fetch(chunkUrl(chunk.seq, false), {
          method: "POST", body: chunk.body, mode: "cors", credentials: "omit", keepalive: true,
          headers: { "Content-Type": "text/plain" },
        }).then(function (r) { settle(chunk, r.status); }, function () { chunk.leaving = false; });
      } catch (e) {}
    });
    var keep = [], size = 0;
    outbox.forEach(function (c) {
      if (size + c.body.length <= PERSIST_BYTES) { keep.push({ seq: c.seq, body: c.body }); size += c.body.length; }
    });
    if (keep.length) storage.set("outbox", JSON.stringify(keep));
  }

  function meta() {
    return { userAgent: navigator.userAgent, viewport: [innerWidth || 1, innerHeight || 1], version: api.version };
  }

  function send(batch, final) {
    if (stopped) return;
    if (backlogBytes > MAX_BACKLOG_BYTES) {
      if (recorder) { try { recorder.stop(); } catch (e) {} recorder = null; }
      return;
    }
    var seq = +storage.get("seq") || 0;
    storage.set("seq", String(seq + 1));
    storage.set("last", String(Date.now()));
    var body = '{"events":' + batch + ',"meta":' + JSON.stringify(meta()) + "}";
    outbox.push({ seq: seq, body: body, tries: 0, due: 0, mine: true });
    backlogBytes += body.length;
    if (!final) pump(); // a final batch is sent by leave(), which runs right after
  }

  try {
    var holder = {};
    /*@RRWEB@*/
    recorder = (/*@RECORD@*/)(holder.rrweb, {
      maskInputs: maskInputs, flushMs: flushMs, maxBatch: 1000, evidence: false, leaveEvents: ["pagehide"],
      canvas: canvas, visit: visit,
    }, send);
  } catch (e) {
    return; // an old browser or a hostile page: no recording, and the page is untouched
  }
  api.set = function (props) { try { recorder && recorder.set(props); } catch (e) {} };
  api.identify = function (id, props) { try { recorder && recorder.identify(id, props); } catch (e) {} };
  api.event = function (name, data) { try { recorder && recorder.event(name, data); } catch (e) {} };
  api.flush = function () { try { recorder && recorder.flush(); } catch (e) {} };
  api.pending = function () { return outbox.length; };
  api.sessionId = sid;
  // After record.js's own listeners, so the page's last batch is already in the outbox.
  addEventListener("pagehide", function () { leave(); closeChannel(); });
  addEventListener("pageshow", function (e) { if (e.persisted && !channel) openChannel(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
  });
  queued.forEach(function (call) {
    try { api[call[0]].apply(api, call[1] || []); } catch (e) {}
  });
  api.q = { push: function (call) { try { api[call[0]].apply(api, call[1] || []); } catch (e) {} } };
  pump();
})();
