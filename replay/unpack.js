// Unpacks what ReplayPage sends a page: zlib-deflated JSON in base64. A session's events as plain
// JSON crossed Playwright's pipe escaped inside another JSON message, and cost more to move than
// to replay (8 ms for a demo session's 165 KB); deflated, the CSS text each page repeats packs
// to a quarter. The bytes go straight into a DecompressionStream: wrapping them in a Blob first
// (and reading it through a Response) registered the Blob with the browser process and cost a
// demo session 1 ms more. Evaluated as an expression: (function (base64) {...}) -> Promise of the value.
(function unpack(base64) {
  "use strict";
  var binary = atob(base64), bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  var inflate = new DecompressionStream("deflate"), writer = inflate.writable.getWriter();
  writer.write(bytes).catch(function () {}); // a failure shows where it is read, below
  writer.close().catch(function () {});
  var reader = inflate.readable.getReader(), decoder = new TextDecoder(), text = "";
  function read() {
    return reader.read().then(function (chunk) {
      if (chunk.done) return JSON.parse(text + decoder.decode());
      text += decoder.decode(chunk.value, { stream: true });
      return read();
    });
  }
  return read();
})
