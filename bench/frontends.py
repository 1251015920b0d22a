"""The fidelity suite: real third-party front ends, scripted journeys over them, and how a replay of
each is compared with what the live page showed.

The pages live in `bench/frontends/` beside the npm packages they use (installed there by
`scripts/setup.sh` from the pinned lock): Shoelace web components, the swagger-ui React app over a
local OpenAPI document, a chart.js canvas, @emotion/css CSS-in-JS with a constructed stylesheet, and
plain pages for a same-origin iframe, a scrolling container, the top layer (dialog, popover) and a web
font from another origin. Sessions are recorded with `evidence=True`: every click stores the element
it really hit (`composedPath()[0]`) and its live box. Journeys also take live screenshots after a
click has settled and mark each moment in the session (an annotation named SHOT), so a replay can be
photographed at the same recorded moment.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbing.events import EventType
from plumbing.vocabulary import TAG_ANNOTATION

from bench.docsite import FONT_FAMILY, make_wide_font, serve_folder

FOLDER = Path(__file__).resolve().parent / "frontends"
PACKAGES = ("@shoelace-style/shoelace", "swagger-ui-dist", "chart.js", "@emotion/css")
SHOT = "fidelity.shot"  # annotation name marking the moment a live screenshot was taken
VIEWPORT = (1280, 800)

# Screenshot comparison. Live page and replay are drawn by the same Chromium at the same scale, so
# the same DOM and styles give the same pixels: measured moments whose DOM matched differ by 0.000 %.
# The per-channel tolerance only forgives anti-aliasing of text or an edge that falls on another
# sub-pixel offset (a few levels, rarely past 40 on an edge pixel). A moment matches when at most
# 0.1 % of its pixels differ, 1,024 px at 1280x800: about one control's outline (a focus ring on a
# button is 450-550 px), while a popover left out (0.5 %), a component 4 px shorter that shifts what
# is below it (1.3-3 %), a missing web font (4-5 %) or a blank canvas (14 %) all fail.
PIXEL_TOLERANCE = 40
MAX_DIFFERING_SHARE = 0.001


def installed() -> bool:
    """Are the npm packages there (`scripts/setup.sh` installs them)?"""
    return all((FOLDER / "node_modules" / name / "package.json").is_file() for name in PACKAGES)


@dataclass
class Servers:
    """The pages' origin, and a second origin that serves the web font and its stylesheet."""

    pages: Any
    fonts: Any

    def url(self, page: str) -> str:
        return self.pages.url + page.replace("{fonts}", self.fonts.url.rstrip("/"))


@contextmanager
def serve_frontends() -> Iterator[Servers]:
    """Serve `bench/frontends` on one loopback origin and a web font on another (with CORS, as font
    hosts do: a cross-origin font needs it)."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sessionheat-fonts-")))
        make_wide_font(tmp / "wide.ttf")
        (tmp / "fonts.css").write_text(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("wide.ttf") format("truetype"); }}\n')
        pages = serve_folder(FOLDER)
        stack.callback(pages.close)
        fonts = serve_folder(tmp, {"Access-Control-Allow-Origin": "*"})
        stack.callback(fonts.close)
        yield Servers(pages, fonts)


# -- journeys ---------------------------------------------------------------------------------------


class Visit:
    """What a journey does on a page: real pointer moves and clicks, wheel scrolls, and screenshots
    of settled moments (`shot`), each marked in the recording."""

    def __init__(self, page: Any, rng: random.Random, shots: list[bytes]):
        self.page, self.rng, self.shots = page, rng, shots

    def click(self, target: Any, settle: int = 450, at: tuple[float, float] = (0.5, 0.5)) -> None:
        """Glide onto `target` (a locator) and click at the fraction `at` of its box."""
        if isinstance(target, str):
            target = self.page.locator(target).first
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        x, y = box["x"] + box["width"] * at[0], box["y"] + box["height"] * at[1]
        self.page.mouse.move(x + self.rng.uniform(-3, 3), y + self.rng.uniform(-3, 3), steps=self.rng.randint(3, 6))
        self.page.wait_for_timeout(self.rng.randint(60, 160))
        self.page.mouse.click(x, y)
        self.page.wait_for_timeout(settle)

    def wheel(self, dy: int, times: int = 1, over: str | None = None) -> None:
        if over:
            box = self.page.locator(over).first.bounding_box()
            self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
        for _ in range(times):
            self.page.mouse.wheel(0, dy)
            self.page.wait_for_timeout(self.rng.randint(90, 160))
        self.page.wait_for_timeout(450)

    def shot(self, settle: int = 700) -> None:
        """A live screenshot once the page has settled, then its moment marked in the recording
        (marked after: everything the picture shows happened before the mark)."""
        self.page.wait_for_timeout(settle)
        self.shots.append(self.page.screenshot(caret="hide"))
        self.page.evaluate("(n) => window.sessionheat.event(n, {})", SHOT)
        self.page.wait_for_timeout(50)


def shoelace_journey(v: Visit) -> None:
    page = v.page
    page.wait_for_function("() => ['sl-tab-group', 'sl-alert', 'sl-dialog', 'sl-dropdown', 'sl-details']"
                           ".every((n) => customElements.get(n)) && document.querySelector('#alerts sl-alert')")
    v.shot(900)
    v.click(page.locator("sl-tab", has_text="Usage"))
    v.click("#moves")
    v.click(page.locator("sl-tab", has_text="Limits"))
    v.click(page.locator("#rating .rating__symbol").nth(3))
    v.click(page.locator("sl-tab", has_text="Overview"))
    v.click("#live")
    v.click("#name input")
    v.click("#details-a .details__header", settle=700)
    v.click("#restyle", settle=600)
    v.shot()
    v.click("#yearly")
    v.click("#monthly")
    v.click("#tag")
    v.click("#open-dialog", settle=800)
    v.click("#dialog-input input")
    v.shot()
    v.click("#dialog-save", settle=700)
    v.click(page.locator("#menu sl-button[slot=trigger]"), settle=600)
    v.click(page.locator("sl-menu-item", has_text="Billing"), settle=800)
    v.shot()
    v.click(page.locator("#alerts sl-alert").first.locator("sl-icon-button"), settle=800)
    v.click("#notify")
    v.wheel(200, 2)
    v.click("#details-b .details__header", settle=700)
    v.shot()


def swagger_journey(v: Visit) -> None:
    page = v.page
    page.wait_for_selector("#operations-pet-getPetById")
    v.shot(800)
    v.click("#operations-pet-getPetById .opblock-summary-path", settle=700)
    v.click("#operations-pet-getPetById .try-out__btn", settle=600)
    v.shot()
    v.click("#operations-pet-getPetById .try-out__btn")  # now "Cancel"
    v.click("#operations-pet-findPetsByStatus .opblock-summary-path", settle=700)
    v.click("#operations-pet-findPetsByStatus .try-out__btn", settle=600)
    v.click("#operations-pet-findPetsByStatus .execute", settle=1200)
    v.shot()
    v.click("#operations-pet-findPetsByStatus .opblock-summary-path", settle=600)  # collapse
    v.click("#operations-pet-getPetById .opblock-summary-path", settle=600)
    v.click("#operations-tag-store", settle=600)  # collapse a whole tag
    v.click("#operations-tag-store", settle=600)
    v.click("#operations-store-placeOrder .opblock-summary-path", settle=700)
    v.click("#operations-store-placeOrder .opblock-summary-path", settle=600)
    v.click(".models-control", settle=600)  # the Schemas section, collapsed at first? toggles it
    if not page.locator("#model-Pet").count():
        v.click(".models-control", settle=600)
    v.click("#model-Pet .model-box-control", settle=600)
    v.click("#model-Order .model-box-control", settle=600)
    v.shot()
    v.click(page.locator("#model-Order .model-box-control").nth(1), settle=600)  # its Customer
    # A deep link, opened as a visitor following it would: a new page load that expands the operation.
    page.goto(page.url.split("#")[0].split("?")[0] + "?from=link#/user/loginUser")
    page.wait_for_selector("#operations-user-loginUser .try-out__btn")
    page.wait_for_timeout(800)
    v.click("#operations-user-loginUser .try-out__btn", settle=600)
    v.click("#operations-user-loginUser .opblock-summary-path", settle=600)
    v.shot()


def chart_journey(v: Visit) -> None:
    page = v.page
    page.wait_for_function("() => window.Chart && Chart.getChart('chart')")
    v.shot(900)
    v.click("#month", settle=900)
    canvas = page.locator("#chart")
    box = canvas.bounding_box()
    legend = page.evaluate("() => Chart.getChart('chart').legend.legendHitBoxes.map((b) => [b.left, b.top, b.width, b.height])")
    lx, ly, lw, lh = legend[1]  # the "Mobile" legend entry, drawn in the canvas
    v.click(canvas, settle=900, at=((lx + lw / 2) / box["width"], (ly + lh / 2) / box["height"]))
    v.shot()
    v.click("#stack", settle=900)
    v.click("#add", settle=900)
    v.click(canvas, settle=900, at=((lx + lw / 2) / box["width"], (ly + lh / 2) / box["height"]))
    v.click("#week", settle=900)
    v.click("#notes")
    v.shot()


def cssinjs_journey(v: Visit) -> None:
    page = v.page
    page.wait_for_selector("#choose-5")
    v.shot(600)
    v.click("#choose-1")
    v.click("#more-2")
    v.click("#choose-4")
    v.shot()
    v.click("#more-0")
    page.keyboard.press("w")  # the adopted sheet is replaced whole
    page.wait_for_timeout(400)
    v.click("#choose-3")
    v.click("#more-5")
    v.click("#plan-2 h2")
    v.shot()


def iframe_journey(v: Visit) -> None:
    page = v.page
    frame = page.frame_locator("#frame")
    frame.locator("#pay").wait_for()
    v.shot(600)
    v.click("#outer-toggle")
    v.click(frame.locator("#card"))
    v.click(frame.locator("#invoice"))
    v.shot()
    v.click(frame.locator("#vat"))
    v.click(frame.locator("#terms"))
    v.click(frame.locator("#transfer"))
    v.click("#outer-toggle")
    v.click(frame.locator("#pay"))
    v.shot()


def scroller_journey(v: Visit) -> None:
    page = v.page
    v.shot(500)
    v.click("#msg-2")
    v.wheel(240, 3, over="#list")
    v.click(_on_screen_item(page, 0))
    v.shot()
    v.wheel(300, 3, over="#list")
    v.click(_on_screen_item(page, 2))
    v.click(_on_screen_item(page, 4))
    v.wheel(-200, 2, over="#list")
    v.click(_on_screen_item(page, 1))
    v.click("#reader h2")
    v.shot()


def _on_screen_item(page: Any, k: int) -> Any:
    """The k-th message wholly visible in the scrolled list (by what the live list shows now)."""
    index = page.evaluate("""(k) => {
        const list = document.getElementById('list').getBoundingClientRect();
        const seen = [...document.querySelectorAll('.item')].filter((b) => {
            const r = b.getBoundingClientRect(); return r.top >= list.top && r.bottom <= list.bottom; });
        return +seen[Math.min(k, seen.length - 1)].id.slice(4); }""", k)
    return page.locator(f"#msg-{index}")


def toplayer_journey(v: Visit) -> None:
    v.shot(400)
    v.click("#open-dialog", settle=500)
    v.click("#role-admin")
    v.shot()
    v.click("#role-viewer")
    v.click("#dialog-send")
    v.click("#open-popover")
    v.shot()
    v.click("#act-export")
    v.wheel(150, 2)
    v.click("#open-popover")
    v.click("#act-rename")
    v.click("#open-dialog", settle=500)
    v.click("#role-editor")
    v.click("#dialog-cancel")
    v.click("#status")
    v.shot()


def webfont_journey(v: Visit) -> None:
    page = v.page
    page.wait_for_function(f"() => document.fonts.check('16px {FONT_FAMILY}')")
    v.shot(500)
    v.click("#b1")
    v.click("#b2")
    v.click("#b3")
    v.shot()
    v.click("#b4")
    v.click("#b5")
    v.click("#n1")
    v.shot()


@dataclass(frozen=True)
class Frontend:
    name: str  # what the row and the test are called
    page: str  # path on the pages' server; `{fonts}` is the font origin
    journey: Callable[[Visit], None]
    min_clicks: int  # the journey's own clicks (a label adds its control's): fewer means it went wrong
    viewport: tuple[int, int] = VIEWPORT


FRONTENDS = [
    Frontend("web components (Shoelace)", "shoelace.html", shoelace_journey, 20),
    Frontend("React SPA (swagger-ui)", "swagger.html", swagger_journey, 18),
    Frontend("canvas chart (chart.js)", "chart.html", chart_journey, 7),
    Frontend("CSS-in-JS (emotion, constructed sheet)", "cssinjs.html", cssinjs_journey, 6),
    Frontend("same-origin iframe", "iframe.html", iframe_journey, 8),
    Frontend("scrolling container", "scroller.html", scroller_journey, 6),
    Frontend("top layer (dialog, popover)", "toplayer.html", toplayer_journey, 12),
    Frontend("web font from another origin", "webfont.html?fonts={fonts}", webfont_journey, 6),
]
BY_PAGE = {f.page.split(".")[0]: f for f in FRONTENDS}


@dataclass
class FrontendRun:
    """One recorded visit: its session, the live screenshots in the order taken, and any error."""

    frontend: Frontend
    session_id: str
    shots: list[bytes] = field(default_factory=list)
    error: str | None = None


def record_frontend(frontend: Frontend, servers: Servers, store: Any, browser: Any, seed: int = 0) -> FrontendRun:
    """Record one visit of `frontend` with click evidence and live screenshots."""
    from recorder import JourneyPlan, record_journeys

    shots: list[bytes] = []

    def journey(page: Any, rng: random.Random) -> None:
        frontend.journey(Visit(page, rng, shots))

    plan = JourneyPlan(servers.url(frontend.page), frontend.viewport, journey=journey)
    run = record_journeys([plan], None, store=store, evidence=True, browser=browser, seed=seed)[0]
    return FrontendRun(frontend, run.session_id, shots, run.error)


# -- comparing a replay with the live page ----------------------------------------------------------


@dataclass(frozen=True)
class ClickCheck:
    t: int
    node_id: int
    live: tuple[float, float, float, float]
    replayed: tuple[float, float, float, float] | None
    tag: str | None

    @property
    def offset(self) -> float:
        """The largest of |dx|, |dy|, |dw|, |dh| in px (inf when the replay has no box)."""
        if self.replayed is None:
            return float("inf")
        return max(abs(a - b) for a, b in zip(self.live, self.replayed))


def check_clicks(rp: Any) -> list[ClickCheck]:
    """Every evidence click's live box against the box our replay gives at that click's moment."""
    live = rp.live_clicks()
    found = rp.resolve([(c.t, c.node_id) for c in live])
    return [ClickCheck(c.t, c.node_id, tuple(c.box),
                       (r.box.x, r.box.y, r.box.w, r.box.h) if r.box else None, r.tag)
            for c, r in zip(live, found)]


def shot_moments(events: list[dict[str, Any]]) -> list[int]:
    """ms since the first event of each SHOT mark, in order."""
    if not events:
        return []
    t0 = events[0]["timestamp"]
    return [int(e["timestamp"] - t0) for e in events
            if e["type"] == EventType.CUSTOM and e["data"].get("tag") == TAG_ANNOTATION
            and (e["data"].get("payload") or {}).get("name") == SHOT]


def differing_share(a_png: bytes, b_png: bytes, tolerance: int = PIXEL_TOLERANCE) -> float:
    """Share of pixels where any channel differs by more than `tolerance` (1.0 when sizes differ)."""
    import cv2
    import numpy as np

    a = cv2.imdecode(np.frombuffer(a_png, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(b_png, np.uint8), cv2.IMREAD_COLOR)
    if a is None or b is None or a.shape != b.shape:
        return 1.0
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    return float((diff > tolerance).mean())


def diff_picture(a_png: bytes, b_png: bytes, tolerance: int = PIXEL_TOLERANCE) -> bytes:
    """The replay's picture with differing pixels painted magenta: for a person to look at."""
    import cv2
    import numpy as np

    a = cv2.imdecode(np.frombuffer(a_png, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(b_png, np.uint8), cv2.IMREAD_COLOR)
    if a.shape != b.shape:
        return b_png
    mask = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > tolerance
    out = (b * 0.5 + 127).astype(np.uint8)
    out[mask] = (255, 0, 255)
    return cv2.imencode(".png", out)[1].tobytes()


def check_shots(rp: Any, live_shots: list[bytes]) -> list[tuple[int, float, bytes]]:
    """(moment, differing share, replay PNG) for each live screenshot, the replay seeked to the moment
    the screenshot was marked."""
    out = []
    for t, live in zip(shot_moments(rp.timeline.events), live_shots):
        rp.seek(t)
        replayed = rp.screenshot()
        out.append((t, differing_share(live, replayed), replayed))
    return out
