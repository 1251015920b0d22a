"""The channel rule and the visit's properties (plumbing/traffic.py): pure functions, no browser."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from plumbing.traffic import (
    EMAIL_HOSTS,
    SEARCH_HOSTS,
    SOCIAL_HOSTS,
    channel_of,
    drop_visitor_notes,
    host_matches,
    referrer_host,
    utm_tags,
    visit_properties,
)
from plumbing.vocabulary import CHANNELS, TAG_VISIT

LANDING = "https://shop.example/pricing"
labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
hosts = st.lists(labels, min_size=2, max_size=4).map(".".join)
utm_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=20)


@pytest.mark.parametrize("landing, referrer, channel", [
    (LANDING, "", "direct"),
    (LANDING, "https://shop.example/", "direct"),  # its own pages: a session restarted on the site
    (LANDING, "https://www.google.com/", "search"),
    (LANDING, "https://www.google.co.uk/search?q=shoes", "search"),
    (LANDING, "https://duckduckgo.com/", "search"),
    (LANDING, "https://l.facebook.com/l.php?u=x", "social"),
    (LANDING, "https://t.co/abc", "social"),
    (LANDING, "https://news.ycombinator.com/item?id=1", "social"),
    (LANDING, "https://mail.google.com/mail/u/0/", "email"),
    (LANDING, "https://blog.example.org/post", "referral"),
    (LANDING, "https://shop.example:8443/", "referral"),  # another port is another site
    (LANDING, "android-app://com.google.android.gm/", "direct"),  # no http(s) referrer: none
    (LANDING + "?utm_source=newsletter&utm_medium=email", "https://www.google.com/", "email"),
    (LANDING + "?utm_medium=Newsletter", "", "email"),
    (LANDING + "?utm_source=fb&utm_medium=social", "", "social"),
    (LANDING + "?utm_campaign=spring", "https://www.google.com/", "campaign"),
    (LANDING + "?utm_source=partner&utm_medium=cpc", "", "campaign"),
    (LANDING + "?utm_source=", "", "direct"),  # an empty tag is no tag
])
def test_the_channel_rule(landing, referrer, channel):
    assert channel_of(landing, referrer) == channel


def test_host_lists_match_subdomains_and_any_country_ending_only():
    assert host_matches("www.bing.com", "bing.com") and host_matches("bing.com", "bing.com")
    assert not host_matches("notbing.com", "bing.com")
    assert host_matches("google.de", "google.*") and host_matches("www.google.com.au", "google.*")
    assert not host_matches("google.evil.example", "google.*")  # an ending of long labels
    assert not host_matches("mygoogle.com", "google.*")
    assert not set(SEARCH_HOSTS) & set(SOCIAL_HOSTS) and not set(SOCIAL_HOSTS) & set(EMAIL_HOSTS)


@given(landing_host=hosts, referrer=st.one_of(st.just(""), hosts.map(lambda h: f"https://{h}/x")),
       tags=st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "utm_campaign"]), utm_values))
def test_every_visit_gets_exactly_one_known_channel_and_tags_win_over_the_referrer(landing_host, referrer, tags):
    landing = f"https://{landing_host}/?" + "&".join(f"{k}={v}" for k, v in tags.items())
    channel = channel_of(landing, referrer)
    assert channel in CHANNELS
    medium = tags.get("utm_medium", "")
    if tags:
        assert channel == ("email" if medium in ("email", "e-mail", "e_mail", "newsletter") else
                           "social" if medium in ("social", "social-media", "social_media", "social-network",
                                                  "social_network", "sm") else "campaign")
    elif not referrer or referrer_host(referrer) == landing_host:
        assert channel == "direct"
    else:
        assert channel in ("search", "social", "email", "referral")
    assert utm_tags(landing) == tags


@given(host=hosts, listed=st.sampled_from(SEARCH_HOSTS))
def test_a_subdomain_of_a_listed_search_engine_is_search(host, listed):
    name = listed.replace(".*", ".com")
    assume(not any(host_matches(f"{host}.{name}", mail) for mail in EMAIL_HOSTS))
    assert channel_of(LANDING, f"https://{host}.{name}/q") == "search"
    assert channel_of(LANDING, f"https://{name.upper()}/") == "search"  # host names have no case


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_text_at_all_gives_a_channel_and_never_raises(landing, referrer):
    assert channel_of(landing, referrer) in CHANNELS
    props = visit_properties({"href": landing, "referrer": referrer, "visitor": "new", "first_seen": 1})
    assert props["channel"] in CHANNELS


def test_visit_properties_from_what_the_page_reported():
    props = visit_properties({"href": "https://shop.example/?utm_source=newsletter&utm_medium=email"
                                      "&utm_campaign=launch&x=1",
                              "referrer": "https://Mail.Google.com/mail/", "visitor": "returning",
                              "first_seen": 1_700_000_000_000})
    assert props == {"referrer_host": "mail.google.com", "utm_source": "newsletter", "utm_medium": "email",
                     "utm_campaign": "launch", "channel": "email", "visitor": "returning",
                     "first_seen": "2023-11-14"}
    assert visit_properties({"href": "https://shop.example/", "referrer": ""}) == {
        "referrer_host": "", "channel": "direct"}  # no note reported: no visitor property
    for hostile in (None, [], {"href": 3}, {"referrer": "x"}):
        assert visit_properties(hostile) == {}
    assert "visitor" not in visit_properties({"href": "https://a.example/", "visitor": "admin"})
    assert "first_seen" not in visit_properties({"href": "https://a.example/", "visitor": "new",
                                                 "first_seen": "yesterday"})


def test_a_site_without_visitor_notes_gets_the_visit_without_them():
    events = [{"type": 5, "timestamp": 1, "data": {"tag": TAG_VISIT, "payload": {
        "href": LANDING, "referrer": "", "visitor": "new", "first_seen": 5}}},
        {"type": 5, "timestamp": 2, "data": {"tag": "other", "payload": {"visitor": "kept"}}}]
    assert drop_visitor_notes(events)
    assert events[0]["data"]["payload"] == {"href": LANDING, "referrer": ""}
    assert events[1]["data"]["payload"] == {"visitor": "kept"}
    assert not drop_visitor_notes(events)  # nothing left to drop
