"""The words the stages share, each defined once: every other module, and the JavaScript that runs in
pages, takes them from here.

Loads neither OpenCV nor Playwright, so the CLI's `--help` and the web UI can import it freely.
"""

from __future__ import annotations

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

ROUTE_KINDS_STARTING_PAGEVIEW = frozenset({"push", "pop"})


def page_tags() -> dict[str, str]:
    """The custom-event tags as page JavaScript names them, `TAGS.CANVAS` for TAG_CANVAS: what
    plumbing.assets.page_script hands to every page script that uses them (see recorder/record.js)."""
    return {name.removeprefix("TAG_"): value for name, value in globals().items()
            if name.startswith("TAG_") and isinstance(value, str)}
