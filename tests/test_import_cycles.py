"""The product's modules import each other one way: no cycle, lazy imports inside functions included.

A cycle (ui.py and heatmaps_ui.py once imported each other, one side lazily to dodge the error)
means neither module can be read or tested without the other; grimp reads every import statement,
at any depth, so a lazy import does not hide one.
"""

from __future__ import annotations

import grimp

PRODUCT = ("plumbing", "recorder", "replay", "heatmap", "sessionheat")


def test_no_module_of_the_product_imports_one_that_imports_it_back():
    graph = grimp.build_graph(*PRODUCT, cache_dir=None)
    assert len(graph.modules) > 40
    cycles = sorted({tuple(sorted((a, b))) for a in graph.modules
                     for b in graph.find_modules_directly_imported_by(a)
                     if graph.find_shortest_chain(importer=b, imported=a)})
    assert cycles == []
