"""Page JavaScript reaches pages through one loader (plumbing.assets.page_script), and the custom-event
tags reach it from plumbing.vocabulary: no .js file spells one, and every one a file names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from plumbing.assets import page_script
from plumbing.vocabulary import page_tags

from recorder import SessionStore, record
from sessionheat.web.snippet import build_snippet

ROOT = Path(__file__).resolve().parent.parent
# The page JavaScript of the product (sessionheat/web/static/* is the web UI's own, not page code).
PAGE_JS = sorted([p for folder in ("recorder", "replay", "heatmap") for p in (ROOT / folder).rglob("*.js")]
                 + [ROOT / "sessionheat" / "web" / "snippet.js"])
TAG_USE = re.compile(r"\bTAGS\.([A-Za-z_]\w*)")
SPELLED_TAG = re.compile(r"""["'`]sessionheat\.[A-Za-z_]+["'`]""")
WRAPPED = re.compile(r"\n\}\)\((\{.*\})\)$")  # page_script's `(function (TAGS) {...})({...})`


def _uses(path: Path) -> set[str]:
    return set(TAG_USE.findall(path.read_text(encoding="utf-8")))


def test_every_tag_a_page_script_names_is_in_the_vocabulary() -> None:
    used = {name: _uses(path) for path in PAGE_JS if (name := path.relative_to(ROOT).as_posix())}
    everything = set().union(*used.values())
    assert everything, "no page script names a tag: the scan found nothing to check"
    assert everything - page_tags().keys() == set()
    # The recorder writes every tag there is; the replay reads what it replays.
    assert set(TAG_USE.findall(page_script("recorder", "record.js"))) == page_tags().keys()
    for name in ("replay/driver_events.js", "replay/canvas.js", "replay/moments.js"):
        assert used[name], f"{name} reads recorder notes: it should name them through TAGS"


def test_no_script_spells_a_tag_itself() -> None:
    """Page scripts get the tags from the loader, the web UI's own scripts from the server.
    (Unquoted, `sessionheat.set(...)` is the page API the snippet's comments describe.)"""
    ui_js = sorted((ROOT / "sessionheat" / "web" / "static").glob("*.js"))
    assert len(PAGE_JS) > 10 and len(ui_js) >= 3
    for path in PAGE_JS + ui_js:
        assert SPELLED_TAG.findall(path.read_text(encoding="utf-8")) == [], path


@pytest.mark.parametrize("package, name", [("recorder", "record.js"), ("replay", "driver.js"),
                                           ("replay", "canvas.js"), ("replay", "moments.js")])
def test_the_loader_hands_a_script_the_vocabularys_tags(package: str, name: str) -> None:
    script = page_script(package, name)
    found = WRAPPED.search(script)
    assert found, "a script naming TAGS is wrapped in a function that takes them"
    handed = json.loads(found.group(1))
    assert handed and {k: page_tags()[k] for k in handed} == handed
    assert set(TAG_USE.findall(script)) == handed.keys()
    assert "/*@INCLUDE" not in script


def test_the_snippet_carries_the_tags_too() -> None:
    snippet = build_snippet()
    for value in page_tags().values():
        assert f'"{value}"' in snippet


@pytest.mark.parametrize("folder, whole", [("replay", "driver"), ("recorder", "record")])
def test_parts_are_each_included_once(folder: str, whole: str) -> None:
    frame = (ROOT / folder / f"{whole}.js").read_text(encoding="utf-8")
    parts = sorted(p.name for p in (ROOT / folder).glob(f"{whole}_*.js"))
    assert len(parts) >= 3
    assert sorted(re.findall(r"/\*@INCLUDE (\w+\.js)@\*/", frame)) == parts
    joined = page_script(folder, f"{whole}.js")
    for part in parts:  # each part's text is in the joined script
        body = (ROOT / folder / part).read_text(encoding="utf-8").strip()
        assert body in joined, part


def test_no_page_script_file_is_long() -> None:
    for path in PAGE_JS:
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path


def _package(root: Path, name: str, files: dict[str, str]) -> None:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for file, text in files.items():
        (folder / file).write_text(text)


def test_a_tag_the_vocabulary_lacks_fails_at_load_and_so_does_an_include_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, "page_script_probe", {
        "unknown.js": "(function () { return TAGS.NOT_A_TAG; })\n",
        "known.js": "(function () {\n  /*@INCLUDE part.js@*/\n  return TAGS.CANVAS;\n});\n",
        "part.js": "  var x = 1;\n",
        "loop.js": "(function () { /*@INCLUDE loop.js@*/ })",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="NOT_A_TAG"):
        page_script("page_script_probe", "unknown.js")
    with pytest.raises(ValueError, match="includes itself"):
        page_script("page_script_probe", "loop.js")
    known = page_script("page_script_probe", "known.js")
    assert "var x = 1;" in known and not known.endswith(";")
    assert known.endswith("})(" + json.dumps({"CANVAS": page_tags()["CANVAS"]}, separators=(",", ":")) + ")")


def test_the_recorder_leaves_no_names_of_its_own_on_the_page(browser, asset_server, tmp_path: Path) -> None:
    """record.js runs before the page's scripts: the tags it is handed must not become page globals."""
    url = asset_server.url("form.html")
    plain = browser.new_page()
    try:
        plain.goto(url)
        before = set(plain.evaluate("() => Object.getOwnPropertyNames(window)"))
    finally:
        plain.close()
    with record(url, store=SessionStore(tmp_path / "s.db"), browser=browser) as session:
        after = set(session.page.evaluate("() => Object.getOwnPropertyNames(window)"))
        assert session.page.evaluate("() => typeof window.__sessionheatRecorder.flush") == "function"
    assert after - before <= {"__sessionheatRecorder", "sessionheat", "__sessionheatSend"}
    assert "__sessionheatRecorder" in after - before
