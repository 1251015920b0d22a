  // Part of heatmap/element_key.js and heatmap/locate_keys.js, put into each by
  // plumbing.assets.page_script: an element's text as rendered, what slots show included (an
  // element inside a shadow root has no innerText of what is slotted into it).
  function flatText(node) {
    var out = [];
    (function walk(n) {
      if (n.nodeType === 3) { out.push(n.data); return; }
      if (n.nodeType !== 1 && n.nodeType !== 11) return;
      if (n.nodeType === 1 && /^(script|style|template)$/i.test(n.localName)) return;
      if (n.localName === "slot" && n.assignedNodes) {
        var assigned = n.assignedNodes({ flatten: true });
        if (assigned.length) { assigned.forEach(walk); return; }
      }
      var kids = n.shadowRoot ? n.shadowRoot.childNodes : n.childNodes;
      for (var i = 0; i < kids.length; i++) walk(kids[i]);
    })(node);
    return out.join(" ");
  }
