"""A real third-party front end for replay fidelity tests and benchmarks: an MkDocs Material documentation site.

Material is what many teams run for their docs, and it leans on exactly what rrweb replays badly:
a navigation drawer and search opened by hidden checkboxes (`:checked`), content tabs that are
radio buttons, an auto-hiding sticky header, scrolling sidebars, `:hover`/`:focus` styles. The site
is built from pip-installed `mkdocs-material` into a temporary folder, with a web font of our own
(generated with fontTools, wide enough that a replay without it lays text out visibly differently).
"""

from __future__ import annotations

import random
from pathlib import Path
from textwrap import dedent
from typing import Any

FONT_FAMILY = "SessionheatWide"


def make_wide_font(path: Path) -> None:
    """A TrueType font whose printable ASCII glyphs are 0.7 em wide boxes."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    chars = [chr(c) for c in range(32, 127)]
    names = [".notdef"] + [f"g{ord(c)}" for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"g{ord(c)}" for c in chars})
    glyphs, metrics = {}, {}
    for name in names:
        pen = TTGlyphPen(None)
        if name not in (".notdef", "g32"):
            pen.moveTo((80, 0)), pen.lineTo((80, 640)), pen.lineTo((620, 640)), pen.lineTo((620, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
        metrics[name] = (700, 80)
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": FONT_FAMILY, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))


def _page(title: str, n: int) -> str:
    sections = []
    for i in range(1, 7):
        sections.append(dedent(f"""
        ## {title} part {i}

        Lorem ipsum dolor sit amet, consectetur adipiscing elit. Section {i} of {title.lower()} explains
        how sessionheat records, replays and maps sessions. Sed do eiusmod tempor incididunt ut labore.

        === "Python"

            ```python
            from replay import open_session  # example {n}.{i}
            ```

        === "Shell"

            ```bash
            sessionheat replay SESSION --at {i}000 --screenshot out.png
            ```

        === "Notes"

            A third tab with a longer label, so the tab strip is wider.

        ??? note "Details {i}"

            Collapsed details that open on click and push the content below down.

        Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo
        consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore.
        """))
    return f"# {title}\n\nIntro paragraph for {title.lower()}.\n" + "".join(sections)


def build_docs(root: Path) -> Path:
    """Build the site into `root/site` and return that folder."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "assets").mkdir()
    make_wide_font(docs / "assets" / "wide.ttf")
    (docs / "assets" / "extra.css").write_text(dedent(f"""
        @font-face {{ font-family: "{FONT_FAMILY}"; src: url("wide.ttf") format("truetype"); }}
        :root {{ --md-text-font: "{FONT_FAMILY}"; --md-text-font-family: "{FONT_FAMILY}", sans-serif; }}
    """))
    pages = ["Home", "Guide", "Reference", "Recipes"]
    for n, title in enumerate(pages):
        (docs / ("index.md" if n == 0 else f"{title.lower()}.md")).write_text(_page(title, n))
    (root / "mkdocs.yml").write_text(dedent("""
        site_name: Replay fidelity docs
        theme:
          name: material
          font: false
          features: [navigation.tabs, header.autohide, navigation.top, navigation.sections]
        extra_css: [assets/extra.css]
        markdown_extensions:
          - admonition
          - pymdownx.details
          - pymdownx.superfences
          - pymdownx.tabbed:
              alternate_style: true
          - toc:
              permalink: true
        nav: [Home: index.md, Guide: guide.md, Reference: reference.md, Recipes: recipes.md]
    """))
    config = load_config(str(root / "mkdocs.yml"), site_dir=str(root / "site"))
    build(config)
    return root / "site"


def docs_journey(page: Any, rng: random.Random) -> None:
    """A reader: drawer or tabs to a page, content tabs, details, scrolling (the header hides and
    comes back), the table of contents, the search overlay, with real mouse clicks and hovers."""
    narrow = page.viewport_size["width"] < 1220

    def click(locator: Any, settle: int = 450) -> None:
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        page.mouse.move(box["x"] + box["width"] * rng.uniform(0.3, 0.7),
                        box["y"] + box["height"] * rng.uniform(0.3, 0.7), steps=rng.randint(3, 6))
        page.wait_for_timeout(rng.randint(60, 160))
        locator.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
        page.wait_for_timeout(settle)

    def wheel(dy: int, times: int) -> None:
        for _ in range(times):
            page.mouse.wheel(0, dy)
            page.wait_for_timeout(rng.randint(80, 160))
        page.wait_for_timeout(500)

    page.wait_for_timeout(400)
    if narrow:
        click(page.locator("label.md-header__button[for=__drawer]"))  # hidden checkbox opens the drawer
        click(page.locator(".md-nav--primary .md-nav__link", has_text="Guide").first)
    else:
        click(page.locator(".md-tabs__link", has_text="Guide"))
    page.wait_for_url("**/guide/")
    page.wait_for_timeout(300)
    tabs = page.locator(".tabbed-labels label")
    click(tabs.nth(1))  # content tabs: radio buttons styled through :checked
    click(tabs.nth(2))
    click(page.locator("details summary").first)
    wheel(300, 4)  # scrolling down hides the header
    click(page.locator(".tabbed-labels").nth(1).locator("label").nth(1))
    wheel(-120, 2)  # scrolling up brings it back
    click(page.locator("details summary").nth(1))
    if not narrow:
        click(page.locator(".md-sidebar--secondary .md-nav__link").nth(3), settle=900)  # contents
        click(page.locator(".tabbed-labels").nth(3).locator("label").nth(2))
    wheel(-400, 3)
    if narrow:
        click(page.locator("label.md-header__button[for=__search]"))  # search overlay: hidden checkbox
    click(page.locator("input.md-search__input"))
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)
    click(page.locator(".md-header__title"))


class FolderServer:
    """A quiet static server for one folder on 127.0.0.1 at an ephemeral port."""

    def __init__(self, folder: Path, headers: dict[str, str] | None = None):
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        extra = dict(headers or {})  # e.g. CORS, for a folder served as another origin's assets

        class Quiet(SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                for name, value in extra.items():
                    self.send_header(name, value)
                super().end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_folder(folder: Path, headers: dict[str, str] | None = None) -> FolderServer:
    return FolderServer(folder, headers)
