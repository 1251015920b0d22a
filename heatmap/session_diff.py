"""Where two runs of the same steps part: the first moment, and the first element at it, where what
the page showed differs, with a picture of each side then. The library call behind `sessionheat
diff`, for a flaky test's passing and failing runs (or any two sessions of the same journey).

The runs are laid side by side step by step, not by clock: the moment just before each click
(what the person or test saw when acting), then each run's end. At each moment, both replays list
what the viewport shows (heatmap/shown_elements.js) and the lists are compared in document order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plumbing.assets import page_script
from plumbing.browser import chromium, host_resolver_rule
from plumbing.store import SessionStore

from replay import Replay, open_session

GRID_PX = 2  # boxes are compared on this grid: sub-pixel layout noise is not a difference


@dataclass(frozen=True)
class Moment:
    """A step of a run: `t` ms into its session, and what it is."""

    t: int
    what: str  # "before click 2 (button#buy)", "end"


@dataclass
class Divergence:
    """The first difference between two runs."""

    step: int  # index into the moments compared
    moment_a: Moment
    moment_b: Moment
    element: str  # the element's path (see shown_elements.js)
    label: str  # what a person reads: its text, or its tag
    change: str  # "only in B", "moved: [x, y, w, h] -> [...]", "text 'x' -> 'y'"...
    screenshot_a: Path | None = None
    screenshot_b: Path | None = None

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "a": {"t": self.moment_a.t, "moment": self.moment_a.what},
                "b": {"t": self.moment_b.t, "moment": self.moment_b.what},
                "element": self.element, "label": self.label, "change": self.change,
                "screenshot_a": str(self.screenshot_a) if self.screenshot_a else None,
                "screenshot_b": str(self.screenshot_b) if self.screenshot_b else None}


@dataclass
class SessionDiff:
    session_a: str
    session_b: str
    steps_compared: int
    divergence: Divergence | None  # None: the runs showed the same at every step compared
    notes: list[str] = field(default_factory=list)  # e.g. one run has more steps than the other

    def as_json(self) -> dict[str, Any]:
        return {"session_a": self.session_a, "session_b": self.session_b,
                "steps_compared": self.steps_compared,
                "divergence": self.divergence.as_json() if self.divergence else None, "notes": self.notes}

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_json(), indent=1))


def moments(rp: Replay) -> list[Moment]:
    """The run's steps: just before each click (its events up to then), then the end."""
    steps = []
    for n, action in enumerate(rp.interactions(), 1):
        steps.append(Moment(max(0, action.t - 1), f"before {action.kind} {n}"))
    steps.append(Moment(rp.duration, "end"))
    return steps


def shown(rp: Replay, t: int) -> list[dict[str, Any]]:
    rp.seek(t)
    return list(rp.evaluate_in_document(page_script("heatmap", "shown_elements.js"), {"grid": GRID_PX}))


def _same_src(a: str, b: str) -> bool:
    """Same asset, wherever each run's site was served from (another port, another host)."""
    return urlsplit(a)._replace(scheme="", netloc="") == urlsplit(b)._replace(scheme="", netloc="")


def first_difference(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[dict[str, Any], str] | None:
    """(the element, how it differs) for the first element in document order that one side shows
    and the other does not, or whose box, text or image differs, or None."""
    matcher = SequenceMatcher(None, [e["path"] for e in a], [e["path"] for e in b], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for left, right in zip(a[a0:a1], b[b0:b1]):
                if left["box"] != right["box"]:
                    return left, f"box {left['box']} in A, {right['box']} in B"
                if left["text"] != right["text"]:
                    return left, f"text {left['text']!r} in A, {right['text']!r} in B"
                if not _same_src(left["src"], right["src"]):
                    return left, f"image {left['src']} in A, {right['src']} in B"
        elif op == "insert":
            return b[b0], "only in B"
        elif op == "delete":
            return a[a0], "only in A"
        else:  # replace: each side shows something else there
            return a[a0], f"A shows it where B shows {b[b0]['path']}"
    return None


def diff_sessions(store: SessionStore, session_a: str, session_b: str, *, out_dir: str | Path | None = None,
                  browser: Any = None) -> SessionDiff:
    """Compare two runs step by step; with `out_dir`, write a screenshot of each side at the first
    divergent moment there (`diff-a.png`, `diff-b.png`)."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        if browser is None:
            origins = set()
            for sid in (session_a, session_b):
                origins |= {urlsplit(p["url"]).hostname or "" for p in store.pageviews(sid)}
            browser = stack.enter_context(chromium(extra_args=[host_resolver_rule(sorted(origins - {""}))]))
        a = stack.enter_context(open_session(store, session_a, browser=browser))
        b = stack.enter_context(open_session(store, session_b, browser=browser))
        steps_a, steps_b = moments(a), moments(b)
        notes = []
        if len(steps_a) != len(steps_b):
            notes.append(f"A has {len(steps_a) - 1} clicks, B {len(steps_b) - 1}: compared the first "
                         f"{min(len(steps_a), len(steps_b)) - 1} and each run's end")
        pairs = list(zip(steps_a[:-1], steps_b[:-1])) + [(steps_a[-1], steps_b[-1])]
        for step, (moment_a, moment_b) in enumerate(pairs):
            found = first_difference(shown(a, moment_a.t), shown(b, moment_b.t))
            if found is None:
                continue
            element, change = found
            divergence = Divergence(step, moment_a, moment_b, element["path"],
                                    element["text"] or element["tag"], change)
            if out_dir is not None:
                folder = Path(out_dir)
                folder.mkdir(parents=True, exist_ok=True)
                divergence.screenshot_a = folder / "diff-a.png"
                divergence.screenshot_b = folder / "diff-b.png"
                a.screenshot(divergence.screenshot_a)
                b.screenshot(divergence.screenshot_b)
            return SessionDiff(session_a, session_b, len(pairs), divergence, notes)
        return SessionDiff(session_a, session_b, len(pairs), None, notes)
