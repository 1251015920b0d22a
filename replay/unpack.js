// Unpacks what ReplayPage sends a page: zlib-deflated JSON in base64. A session's events as plain
// JSON crossed Playwright's pipe escaped inside another JSON message, and cost more to move than
// to replay (8 ms for a demo session's 165 KB); deflated, the CSS text each page repeats packs
// to a quarter. Evaluated as an expression: (function (base64) {...}) -> Promise of the value.
(function unpack(base64) {
  "use strict";
  var binary = atob(base64), bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  var inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(inflated).text().then(JSON.parse);
})
