"""`sessionheat diff`: two runs of the same steps, the second on a changed layout."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner
from conftest import AssetServer

from heatmap.session_diff import diff_sessions, first_difference
from recorder import record
from sessionheat.cli import main

# The same two steps; with ?changed the first step also shows a banner above the second button.
PAGE = """<!doctype html><html><head><style>
body { margin: 0; font: 16px sans-serif; } button { display: block; margin: 30px; width: 220px; height: 50px; }
#banner { height: 120px; background: #fde68a; }
</style></head><body>
<h1>Checkout</h1><button id="step1">Add to cart</button><button id="step2">Pay</button>
<script>
document.getElementById("step1").addEventListener("click", function () {
  document.querySelector("h1").textContent = "Checkout: 1 item";
  if (location.search.indexOf("changed") >= 0) {
    var banner = document.createElement("div");
    banner.id = "banner";
    banner.textContent = "Free shipping today";
    document.body.insertBefore(banner, document.getElementById("step2"));
  }
});
</script></body></html>"""


def run(store, browser, url):
    with record(url, store=store, browser=browser) as session:
        session.page.click("#step1")
        session.page.click("#step2")
    return session.id


def test_the_first_divergent_moment_and_element_are_named(browser, store, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "pay.html").write_text(PAGE)
    server = AssetServer(tmp_path / "site")
    try:
        passed = run(store, browser, server.url("pay.html"))
        failed = run(store, browser, server.url("pay.html?changed=1"))
        same = run(store, browser, server.url("pay.html"))
        result = diff_sessions(store, passed, failed, out_dir=tmp_path / "diff", browser=browser)
        assert result.divergence is not None
        found = result.divergence
        assert (found.step, found.moment_a.what, found.moment_b.what) == (1, "before click 2", "before click 2")
        assert found.element == "body > div#banner:1" and found.change == "only in B"
        assert found.label == "Free shipping today"
        for shot in (found.screenshot_a, found.screenshot_b):
            assert shot is not None and shot.read_bytes()[:4] == b"\x89PNG"
        assert diff_sessions(store, passed, same, browser=browser).divergence is None

        ran = cli(["diff", "--db", str(store.path), passed, failed, "--json", "--out", str(tmp_path / "cli")])
    finally:
        server.close()
    assert ran.exit_code == 0, ran.output
    written = json.loads(ran.output)
    assert written["divergence"]["step"] == 1 and written["divergence"]["element"] == "body > div#banner:1"
    assert (tmp_path / "cli" / "diff-a.png").exists() and (tmp_path / "cli" / "diff-b.png").exists()


def test_first_difference_in_document_order():
    def el(path, box=(0, 0, 10, 10), text=""):
        return {"path": path, "tag": path.rsplit(" ", 1)[-1], "box": list(box), "text": text, "src": ""}
    a = [el("body > h1:1", text="Hi"), el("body > p:1"), el("body > p:2", box=(0, 20, 10, 10))]
    assert first_difference(a, list(a)) is None
    moved = [a[0], a[1], el("body > p:2", box=(0, 40, 10, 10))]
    assert first_difference(a, moved) == (a[2], "box [0, 20, 10, 10] in A, [0, 40, 10, 10] in B")
    inserted = [a[0], el("body > div#x:1"), a[1], a[2]]
    assert first_difference(a, inserted) == (inserted[1], "only in B")
    assert first_difference(a, a[:2]) == (a[2], "only in A")
    retitled = [el("body > h1:1", text="Bye"), a[1], a[2]]
    assert first_difference(a, retitled)[1] == "text 'Hi' in A, 'Bye' in B"


def cli(args: list[str]):
    """CliRunner in a thread of its own: the test's sync Playwright owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, args).result()
