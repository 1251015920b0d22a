"""One word for each idea: the kinds, Box, the two interactions, the default viewport and the
session-id rule are defined in plumbing.vocabulary, and every place that uses them agrees."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plumbing.events import POINTER_ACTIONS, EventType, IncrementalSource, MouseInteraction
from plumbing.store import SessionStore
from plumbing.vocabulary import (
    BAND_KINDS,
    CLICK_KINDS,
    DEFAULT_VIEWPORT,
    HEATMAP_KINDS,
    HIT_KINDS,
    POINT_KINDS,
    POINTER_ACTION_KINDS,
    TAP,
    Box,
    counted,
)

import heatmap
import replay
from heatmap.interactions import PageInteraction, extract_interactions
from replay.timeline import PointerAction, Timeline
from sessionheat.web.session_timeline import build_timeline

T0 = 1_790_000_000_000
ROOT = Path(__file__).resolve().parent.parent


def test_the_vocabulary_loads_neither_opencv_nor_playwright():
    code = ("import sys, plumbing.vocabulary, plumbing.user_input, plumbing.events;"
            "print(sorted(m for m in ('cv2', 'numpy', 'playwright') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_kind_lists_fit_together():
    assert set(HIT_KINDS) == set(HEATMAP_KINDS)
    assert set(POINT_KINDS) | set(BAND_KINDS) == set(HEATMAP_KINDS) and not set(POINT_KINDS) & set(BAND_KINDS)
    assert set(POINTER_ACTIONS.values()) == set(POINTER_ACTION_KINDS)
    assert set(CLICK_KINDS) < set(POINTER_ACTION_KINDS) and TAP not in CLICK_KINDS
    assert HIT_KINDS["click"] == CLICK_KINDS  # a click map counts every click kind the index writes


def test_the_stores_click_query_selects_exactly_the_pointer_action_kinds(tmp_path):
    """The store's SQL takes its kind list from the vocabulary: a session's flags hold every
    pointer action among its hits, and nothing else."""
    store = SessionStore(tmp_path / "s.db")
    kinds = [*POINTER_ACTION_KINDS, "move", "input", "view_top", "view_bottom", "view_max", "container_max"]
    hits = [{"session_id": "vocab-session", "pageview": 0, "t": i, "kind": kind}
            for i, kind in enumerate(kinds)]
    store.load_session_summaries([{"id": "vocab-session", "first_ts": T0}], hits=hits, indexed=["vocab-session"])
    flags = store.session_flags("vocab-session")
    assert flags["indexed"] and [c["kind"] for c in flags["clicks"]] == list(POINTER_ACTION_KINDS)


def _events_with_a_tap() -> list[dict]:
    """A page, then one finger on a button: rrweb records the TouchStart and the click the
    browser fires after it."""
    node = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "button", "attributes": {"id": "buy"},
         "childNodes": [{"type": 3, "id": 3, "textContent": "Buy"}]}]}

    def pointer(t: int, action: MouseInteraction) -> dict:
        return {"type": EventType.INCREMENTAL_SNAPSHOT, "timestamp": T0 + t,
                "data": {"source": IncrementalSource.MOUSE_INTERACTION, "type": action, "id": 2,
                         "x": 20, "y": 30}}

    return [{"type": EventType.META, "timestamp": T0, "data": {"href": "http://127.0.0.1:9/", "width": 390,
                                                               "height": 844}},
            {"type": EventType.FULL_SNAPSHOT, "timestamp": T0 + 1,
             "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}},
            pointer(100, MouseInteraction.TOUCH_START), pointer(180, MouseInteraction.CLICK)]


def test_a_tap_is_a_pointer_action_but_never_a_second_click_hit():
    events = _events_with_a_tap()
    assert [i.kind for i in extract_interactions(events)] == ["click"]  # what the index writes
    assert [i.kind for i in Timeline(events).interactions()] == ["tap", "click"]  # moments of the replay
    pageviews = [{"url": "http://127.0.0.1:9/", "t_start": 0, "width": 390, "height": 844}]
    labels = [e.label for e in build_timeline(events, pageviews) if e.kind == "click"]
    assert labels == ["Tap on button “Buy”", "Click on button “Buy”"]


def test_one_box_everywhere():
    import heatmap.keys
    import heatmap.placement
    import replay.session
    from heatmap.placement import reproject

    assert replay.Box is replay.session.Box is heatmap.keys.Box is heatmap.placement.Box is Box
    key = heatmap.keys.key_from_js({"key": "#buy", "label": "Buy", "tag": "button", "interactive": True,
                                    "box": [1, 2, 3, 4]})
    assert isinstance(key.box, Box) and key.box.w == 3
    box = Box(10.0, 20.0, 100.0, 50.0)
    assert box == (10.0, 20.0, 100.0, 50.0) and list(box) == [10.0, 20.0, 100.0, 50.0]
    assert box.contains(110, 70) and not box.contains(111, 70)
    assert reproject(box, 0.5, 1.0) == (60.0, 70.0)


def test_the_two_interactions_have_names_that_say_what_they_are():
    assert heatmap.Interaction is PageInteraction and replay.Interaction is PointerAction
    assert PageInteraction is not PointerAction


def test_the_default_viewport_is_the_recorders_and_the_clis():
    from recorder import record
    from sessionheat.cli import main

    assert inspect.signature(record).parameters["viewport"].default == DEFAULT_VIEWPORT
    shown = CliRunner().invoke(main, ["record", "--help"]).output
    assert f"[default: {DEFAULT_VIEWPORT[0]}x{DEFAULT_VIEWPORT[1]}]" in " ".join(shown.split())


@pytest.mark.parametrize("n, noun, plural, said", [
    (0, "session", None, "0 sessions"), (1, "session", None, "1 session"),
    (1234, "API token", None, "1,234 API tokens"), (1, "mouse position", "mouse positions", "1 mouse position"),
    (2, "attention", "attention", "2 attention"),
])
def test_counted_says_one_thing_and_many_things(n, noun, plural, said):
    assert counted(n, noun, plural) == said


def test_the_legend_counts_with_the_same_words():
    from heatmap.render_legend import plural

    assert plural(1, "clicks") == "1 click" and plural(2, "mouse positions") == "2 mouse positions"
    assert plural(1.0, "clicks") == "1 click" and plural(1, "class") == "1 class"
