"""The words the stages share, each defined once: every other module, and the JavaScript that runs in
pages, takes them from here.

Loads neither OpenCV nor Playwright, so the CLI's `--help` and the web UI can import it freely.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Custom-event tags (rrweb `{type: 5, data: {tag, payload}}`) written by our in-page code.
TAG_SET_PROPERTIES = "sessionheat.set"  # payload: {key: value}, merged into the session's properties
TAG_IDENTIFY = "sessionheat.identify"  # payload: {user_id, properties}
TAG_ROUTE = "sessionheat.route"  # payload: {href, kind: push|replace|pop}; push/pop start a pageview
TAG_ANNOTATION = "sessionheat.annotation"  # payload: {name, data}; marks a moment on the timeline
TAG_SCROLL = "sessionheat.scroll"  # payload: {x, y}: the window's scroll, when a click outran `scroll`
TAG_IMAGE_LOAD = "sessionheat.load"  # payload: {id, ok}: an image's first load (or failure) since the snapshot
TAG_LIVE_CLICK = "sessionheat.click"  # payload: the live box of what a click hit (test evidence)
# payload: {id, at, w, h, url, kind}: a canvas's pixels (url: a data: URL; null for a context we do
# not capture, `kind` naming it) as they were at `at` (epoch ms; the event itself is emitted after
# encoding, so a replay picks by `at`, not by the event's place); see recorder/record.js.
TAG_CANVAS = "sessionheat.canvas"
# payload: {at, running: [{id, kind: transition|animation, name, start, pseudo?, held?, timing?, key?, values?}],
# ended?: [{id, kind, name, start, pseudo?}]}: transitions and CSS animations running at `at`
# (document-timeline ms of that page load), each with the timeline ms its currentTime counts from;
# written when one begins, at the snapshot and before clicks; `ended`: cancelled at `start`
TAG_ANIMATIONS = "sessionheat.animations"
# payload: {id, open, modal, popover}: a popover or dialog entered or left the top layer (rrweb sees
# no attribute for a popover, and only `open` for a modal dialog)
TAG_TOP_LAYER = "sessionheat.toplayer"
TAG_INNER_SCROLL = "sessionheat.innerscroll"  # payload: {id, x, y}: a scrolled ancestor of a click's target, when the click outran its `scroll`
# payload: {id, visible}: an element (or a shadow host around it) took focus, and whether
# :focus-visible matched (a click's focus shows no ring; a replay's scripted focus() would)
TAG_FOCUS_VISIBLE = "sessionheat.focusvisible"
# payload: {href, referrer, visitor?: new|returning, first_seen?: epoch ms}: written once, at the first
# page of a session: where the visit landed, the page's document.referrer, and what the visitor note
# (snippet.js; record()'s `returning=`) said. plumbing/traffic.py turns it into session properties.
TAG_VISIT = "sessionheat.visit"

ROUTE_KINDS_STARTING_PAGEVIEW = frozenset({"push", "pop"})


# -- properties sessionheat derives by itself (plumbing/traffic.py, plumbing/conversions.py) -------

REFERRER_HOST = "referrer_host"  # the host of the first page's referrer; "" when there was none
UTM_KEYS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign")  # from the landing URL
CHANNEL = "channel"  # one of CHANNELS, by plumbing.traffic.channel_of
CHANNELS: tuple[str, ...] = ("direct", "search", "social", "email", "referral", "campaign")
VISITOR = "visitor"  # new | returning, from the visitor note (only where the site keeps one)
VISITOR_KINDS: tuple[str, ...] = ("new", "returning")
FIRST_SEEN = "first_seen"  # the day (YYYY-MM-DD, UTC) the visitor note was first written
CONVERTED = "converted"  # yes | no: whether the session reached a goal of its site
CONVERTED_VALUES: tuple[str, ...] = ("yes", "no")
GOAL_KINDS: tuple[str, ...] = ("url", "event")  # a goal is `url:PATH-PATTERN` or `event:NAME`


# -- what a visitor did: the `kind` of an interaction and of a hits-table row ----------------------

CLICK = "click"
DBLCLICK = "dblclick"
CONTEXTMENU = "contextmenu"
TAP = "tap"  # rrweb's TouchStart: a finger down (the browser then fires the click it counts as)
MOVE = "move"
SCROLL = "scroll"
INPUT = "input"
VIEW_TOP = "view_top"  # attention: a held viewport's top edge, through the element there
VIEW_BOTTOM = "view_bottom"  # ... and its bottom edge
VIEW_MAX = "view_max"  # scroll depth: the deepest the viewport's bottom got in a pageview
CONTAINER_MAX = "container_max"  # scroll depth inside a scrolling container

# What a click map counts, and what the index writes as click hits. A tap is not among them: on a
# touch screen the browser follows a finger's TouchStart with a click, which rrweb records too, so
# counting both would count every tap twice.
CLICK_KINDS: tuple[str, ...] = (CLICK, DBLCLICK, CONTEXTMENU)
# What the visitor did with a pointer, as timelines and a replay's moments show it: the clicks and
# the taps (a tap is a moment of its own, a few ms before its click).
POINTER_ACTION_KINDS: tuple[str, ...] = (*CLICK_KINDS, TAP)

# -- heatmaps: what can be drawn, and from which hits --------------------------------------------

RAGE = "rage"  # a click in a burst of clicks on one spot (heatmap.interactions.flag_rage_clicks)
DEAD = "dead"  # a click nothing answered, on an element that is not a control
ATTENTION = "attention"  # time each part of the page spent inside the viewport
HEATMAP_KINDS: tuple[str, ...] = (CLICK, MOVE, SCROLL, ATTENTION, RAGE, DEAD)
POINT_KINDS: tuple[str, ...] = (CLICK, MOVE, RAGE, DEAD)  # drawn as points: the kinds compare can draw
BAND_KINDS: tuple[str, ...] = (SCROLL, ATTENTION)  # drawn as bands of the page's height
HIT_KINDS: dict[str, tuple[str, ...]] = {  # heatmap kind -> the hit kinds it is drawn from
    CLICK: CLICK_KINDS,
    RAGE: (CLICK,),
    DEAD: (CLICK,),
    MOVE: (MOVE,),
    SCROLL: (VIEW_MAX, CONTAINER_MAX),  # the page's deepest scroll; each container's
    ATTENTION: (VIEW_TOP, VIEW_BOTTOM),
}


class Box(NamedTuple):
    """An element's box in document px (x, y: its top left): a tuple, so it unpacks as
    `x, y, w, h` and serializes as [x, y, w, h]; the same box a live page's
    getBoundingClientRect() plus its scroll gives."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.w and self.y <= y <= self.y + self.h


# -- sessions ------------------------------------------------------------------------------------

DEFAULT_VIEWPORT: tuple[int, int] = (1280, 800)  # what a recording or a replay opens with, unless told
MAX_VIEWPORT_PX = 100_000  # the widest (or tallest) viewport a session can say it had
SESSION_ID_CHARS = "A-Za-z0-9_-"  # URL-safe: an id is a path segment and a command-line argument
SESSION_ID_LENGTH = (8, 64)
SESSION_ID_RE = re.compile(rf"^[{SESSION_ID_CHARS}]{{{SESSION_ID_LENGTH[0]},{SESSION_ID_LENGTH[1]}}}$")
SESSION_ID_RULE = f"a session id is {SESSION_ID_LENGTH[0]}-{SESSION_ID_LENGTH[1]} characters of A-Z a-z 0-9 _ -"

# -- a test suite's sessions (the pytest plugin, sessionheat/pytest_plugin.py) --------------------
# The properties every session a test recorded is tagged with, usable in every segment filter.
PROP_TEST = "test"  # the test's pytest node id; a session with it is a test's, not a visitor's
PROP_TEST_OUTCOME = "test_outcome"  # one of TEST_OUTCOMES
PROP_TEST_DURATION_MS = "test_duration_ms"  # setup + call + teardown, as JUnit XML counts it
PROP_TEST_RETRY = "test_retry"  # 0 for the first run; pytest-rerunfailures' reruns count up
PROP_XDIST_WORKER = "xdist_worker"  # gw0, gw1... (pytest-xdist), absent without it
PROP_BROWSER = "browser"  # "chromium 131.0.6778.85"
PROP_GIT_COMMIT = "git_commit"
PROP_GIT_BRANCH = "git_branch"
TEST_OUTCOMES: tuple[str, ...] = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
FAILED_OUTCOMES: tuple[str, ...] = ("failed", "error")  # what `--sessionheat-keep failed` keeps

MIB = 1024 * 1024
SESSION_EVENTS_CAP = 200_000  # the collector's cap on one session's events, unless its site sets one
SESSION_BYTES_CAP = 32 * MIB  # ... and on its event JSON, inflated


def counted(n: float, noun: str, plural: str | None = None, *, shown: str | None = None) -> str:
    """'1 session', '3 sessions', '1,234 sessions': `noun` in the singular (`plural` when it is not
    noun + s); `shown`, the number as written when it is not an int with thousands separators."""
    number = shown if shown is not None else f"{n:,}"
    return f"{number} {noun if n == 1 else plural or noun + 's'}"


def page_tags() -> dict[str, str]:
    """The custom-event tags as page JavaScript names them, `TAGS.CANVAS` for TAG_CANVAS: what
    plumbing.assets.page_script hands to every page script that uses them (see recorder/record.js)."""
    return {name.removeprefix("TAG_"): value for name, value in globals().items()
            if name.startswith("TAG_") and isinstance(value, str)}
