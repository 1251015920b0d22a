"""sessionheat: record, replay and element-accurate heatmaps for your staging site.

The stage packages (`recorder`, `replay`, `heatmap`) sit beside this one; this package holds the
plumbing they share: the store (`store`), the one browser launcher (`browser`), the rrweb event
vocabulary (`events`) and where bundled files live (`assets`).
"""

__version__ = "0.1.0"
