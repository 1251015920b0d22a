"""Element-accurate heatmaps: every interaction resolved to the element it hit, in that visitor's
own layout, then re-projected onto one reference layout and rendered with numpy + OpenCV."""

from heatmap.interactions import Interaction, extract_interactions
from heatmap.keys import ElementKey, element_key_js
from heatmap.placement import ElementStat, PlacedPoint, Placement, depth_on_reference, place_hits
from heatmap.render import (
    LEGEND_HEIGHT,
    ElementOutline,
    render_band_map,
    render_difference_map,
    render_point_map,
    write_png,
)
from heatmap.segments import OriginChoice, Segment, SegmentError, url_matches

__all__ = [
    "LEGEND_HEIGHT",
    "ElementKey",
    "ElementOutline",
    "ElementStat",
    "Interaction",
    "OriginChoice",
    "PlacedPoint",
    "Placement",
    "Segment",
    "SegmentError",
    "depth_on_reference",
    "element_key_js",
    "extract_interactions",
    "place_hits",
    "render_band_map",
    "render_difference_map",
    "render_point_map",
    "url_matches",
    "write_png",
]

from heatmap.build import (  # noqa: E402
    Heatmap,
    HeatmapError,
    build_compare,
    build_heatmap,
    compare_pageviews,
    compare_to_json,
    write_compare,
)
from heatmap.coverage import Coverage, build_coverage  # noqa: E402
from heatmap.index import IndexResult, index_session  # noqa: E402
from heatmap.index_workers import index_sessions  # noqa: E402
from heatmap.session_diff import SessionDiff, diff_sessions  # noqa: E402

__all__ += ["Heatmap", "HeatmapError", "IndexResult", "build_compare", "build_heatmap", "compare_pageviews",
            "compare_to_json",
            "index_session", "index_sessions", "write_compare"]
__all__ += ["Coverage", "SessionDiff", "build_coverage", "diff_sessions"]
