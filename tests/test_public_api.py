"""The public names of the stage packages, pinned (as httpx pins its own): a name that
disappears breaks the callers of `from recorder import ...`, `from replay import ...`,
`from heatmap import ...`, so removing or renaming one has to be a decision made here, with an
alias kept where a name moves (and a line in CHANGELOG.md).

Adding a name: add it to the package's `__all__` and to the list below.
"""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC_NAMES = {
    "recorder": [
        "ContextRecording", "JourneyPlan", "JourneyRun", "RecordedSession", "SessionStore", "load_journey", "record",
        "record_journeys", "recorder_init_script",
    ],
    "replay": [
        "AssetCache", "Box", "Interaction", "LiveClick", "Pageview", "Replay", "ReplayError", "ReplayPage",
        "Resolved", "Timeline", "VideoResult", "frame_times", "open_session", "player_html",
        "render_video", "write_player_html",
    ],
    "heatmap": [
        "Coverage", "ElementKey", "ElementOutline", "ElementStat", "Heatmap", "HeatmapError", "IndexResult",
        "Interaction", "LEGEND_HEIGHT", "OriginChoice", "PlacedPoint", "Placement", "Segment",
        "SegmentError", "SessionDiff", "build_compare", "build_coverage", "build_heatmap", "compare_pageviews",
        "compare_to_json", "depth_on_reference", "diff_sessions", "element_key_js", "extract_interactions",
        "index_session", "index_sessions",
        "place_hits", "render_band_map", "render_difference_map", "render_point_map", "url_matches",
        "write_compare", "write_png",
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC_NAMES))
def test_public_names_are_the_pinned_ones(package):
    module = importlib.import_module(package)
    assert sorted(module.__all__) == PUBLIC_NAMES[package]
    assert len(set(module.__all__)) == len(module.__all__), f"{package}.__all__ names one twice"


@pytest.mark.parametrize("package", sorted(PUBLIC_NAMES))
def test_every_public_name_is_there_and_listed(package):
    """Each name in `__all__` imports; each public name the package holds is in `__all__` (its
    submodules aside), so `from {package} import *` and the docs agree with what is there."""
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not hold: {missing}"
    unlisted = sorted(name for name, value in vars(module).items()
                      if not name.startswith("_") and not isinstance(value, types.ModuleType)
                      and name != "annotations" and name not in module.__all__)
    assert not unlisted, f"{package} holds public names its __all__ leaves out: {unlisted}"
