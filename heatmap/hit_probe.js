// What the heatmap index asks the replay about each hit (see heatmap/index.py): one pass answers
// elements, view anchors and page states together (a second pass would rebuild every page again).
// Evaluated as an expression: (function (elementKey, viewAnchor, pageState) {...}) taking the
// functions of element_key.js, view_anchor.js and page_state.js, and returning the probe
// (node, query, doc) -> a view anchor when the query is a point, else the node's key with the
// page's state around it (or null).
(function hitProbe(elementKey, viewAnchor, pageState) {
  return function (node, q, doc) {
    if (q.point) return viewAnchor(doc, q.point[0], q.point[1], elementKey);
    var found = node ? elementKey(node) : null;
    if (found) found.state = pageState(node, elementKey);
    return found;
  };
})
