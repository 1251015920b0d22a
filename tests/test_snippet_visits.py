"""Where visitors come from and whether they came before, as the snippet reports it from a real
Chromium: UTM tags and the referrer become session properties, a visitor note makes a second
visit `returning`, the note stays on its own site, and a site that keeps none leaves nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from collector_helpers import ThreadServer
from conftest import ASSETS
from snippet_pages import SnippetSite, snippet_tag, wait_until_sent

from plumbing.store import SessionStore

from sessionheat.web import add_site, create_app

LANDING = "form.html?utm_source=newsletter&utm_medium=email&utm_campaign=launch"
REFERRER = "https://news.example.org/issue/12"


@dataclass
class Site:
    page_site: SnippetSite
    key: str

    def note_key(self) -> str:
        return f"sessionheat:{self.key}:visitor"


@dataclass
class Rig:
    store: SessionStore
    server: ThreadServer
    shop: Site
    blog: Site  # another site on another origin (another port of 127.0.0.1)

    def serve(self, site: Site, **options: str) -> None:
        site.page_site.tag = snippet_tag(self.server.url, site.key, flush_ms="500", **options)

    def sessions(self, site: Site) -> list[dict[str, Any]]:
        name = "shop" if site is self.shop else "blog"
        return sorted((s for s in self.store.list_sessions() if s["site"] == name), key=lambda s: s["first_ts"])


@pytest.fixture
def rig(tmp_path: Any) -> Iterator[Rig]:
    store = SessionStore(tmp_path / "visits.db")
    with SnippetSite(ASSETS) as shop_pages, SnippetSite(ASSETS) as blog_pages:
        shop = Site(shop_pages, add_site(store, "shop", [shop_pages.origin], remember_visitors=True))
        blog = Site(blog_pages, add_site(store, "blog", [blog_pages.origin], remember_visitors=True))
        server = ThreadServer(create_app(store))
        try:
            rig = Rig(store, server, shop, blog)
            rig.serve(shop)
            rig.serve(blog)
            yield rig
        finally:
            server.close()
    store.close()


def visit(context: Any, url: str, referrer: str | None = None) -> Any:
    """One visit in a tab of its own (a new tab is a new session), sent and acknowledged."""
    page = context.new_page()
    page.goto(url, referer=referrer)
    wait_until_sent(page)
    return page


def notes(page: Any) -> dict[str, str]:
    """What this page's origin keeps in localStorage under sessionheat's names."""
    return page.evaluate("() => Object.fromEntries(Object.keys(localStorage)"
                         ".filter(k => k.startsWith('sessionheat')).map(k => [k, localStorage.getItem(k)]))")


def wait_for_note(page: Any, key: str) -> None:
    """The note is written when the collector's answer says the site keeps one."""
    page.wait_for_function("(key) => localStorage.getItem(key) !== null", arg=key)


def test_a_campaign_landing_with_a_referrer_gives_those_properties(rig, browser):
    context = browser.new_context()
    page = visit(context, rig.shop.page_site.url(LANDING), referrer=REFERRER)
    assert page.evaluate("document.referrer").startswith("https://news.example.org/")
    context.close()
    (session,) = rig.sessions(rig.shop)
    props = session["properties"]
    assert {k: props[k] for k in ("referrer_host", "utm_source", "utm_medium", "utm_campaign", "channel",
                                  "visitor")} == {
        "referrer_host": "news.example.org", "utm_source": "newsletter", "utm_medium": "email",
        "utm_campaign": "launch", "channel": "email", "visitor": "new"}
    assert props["first_seen"] == session["started_at"][:10]


def test_a_second_visit_in_the_same_browser_is_returning_and_a_search_visit(rig, browser):
    context = browser.new_context()
    first = visit(context, rig.shop.page_site.url("form.html"))
    wait_for_note(first, rig.shop.note_key())
    kept = notes(first)[rig.shop.note_key()]
    first.close()
    second = visit(context, rig.shop.page_site.url("second.html"), referrer="https://www.google.com/")
    assert notes(second)[rig.shop.note_key()] == kept  # the same note, not a new one
    context.close()
    new, returning = rig.sessions(rig.shop)
    assert new["properties"]["visitor"] == "new" and new["properties"]["channel"] == "direct"
    assert returning["properties"]["visitor"] == "returning" and returning["properties"]["channel"] == "search"
    assert returning["properties"]["first_seen"] == new["properties"]["first_seen"]


def test_another_site_never_sees_the_note_and_the_id_never_leaves_the_browser(rig, browser):
    context = browser.new_context()
    shop = visit(context, rig.shop.page_site.url("form.html"))
    wait_for_note(shop, rig.shop.note_key())
    note_id = json.loads(notes(shop)[rig.shop.note_key()])["id"]
    blog = visit(context, rig.blog.page_site.url("form.html"))
    wait_for_note(blog, rig.blog.note_key())
    assert rig.shop.note_key() not in notes(blog)  # another origin: another localStorage
    assert note_id not in "".join(notes(blog).values())
    context.close()
    (blog_session,) = rig.sessions(rig.blog)
    assert blog_session["properties"]["visitor"] == "new"  # the shop's visitor is a stranger here
    for session in rig.store.list_sessions():
        assert note_id not in rig.store.export_events(session["id"])


def test_a_site_whose_policy_keeps_no_notes_leaves_nothing_in_the_browser(rig, browser):
    rig.store.set_site("shop", remember_visitors=False)  # before the collector's first look
    context = browser.new_context()
    for url in ("form.html", "second.html"):
        page = visit(context, rig.shop.page_site.url(url), referrer=REFERRER)
        page.wait_for_timeout(300)  # time for the answer's policy to be acted on
        assert notes(page) == {}
    context.close()
    # A browser that kept a note while the site allowed it: the collector's answer has it removed.
    context = browser.new_context()
    context.add_init_script(f"""if (location.origin === {rig.shop.page_site.origin!r} && !sessionStorage.seeded) {{
        sessionStorage.seeded = 1;
        localStorage.setItem({rig.shop.note_key()!r}, JSON.stringify({{id: "old", first_seen: 1}})); }}""")
    page = visit(context, rig.shop.page_site.url("form.html"))
    page.wait_for_function("(key) => localStorage.getItem(key) === null", arg=rig.shop.note_key())
    context.close()
    sessions = rig.sessions(rig.shop)
    assert len(sessions) == 3
    for session in sessions:
        props = session["properties"]
        assert "visitor" not in props and "first_seen" not in props  # nor stored by the collector
        assert props["channel"] == ("direct" if session is sessions[-1] else "referral")
        assert '"visitor"' not in rig.store.export_events(session["id"])
    assert sessions[0]["properties"]["referrer_host"] == "news.example.org"


def test_a_page_that_asks_for_no_note_removes_the_one_it_kept(rig, browser):
    context = browser.new_context()
    first = visit(context, rig.shop.page_site.url("form.html"))
    wait_for_note(first, rig.shop.note_key())
    first.close()
    rig.serve(rig.shop, visitors="false")  # e.g. the visitor withdrew consent
    second = visit(context, rig.shop.page_site.url("second.html"))
    second.wait_for_timeout(300)
    assert notes(second) == {}
    context.close()
    assert "visitor" not in rig.sessions(rig.shop)[1]["properties"]
