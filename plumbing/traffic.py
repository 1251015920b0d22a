"""Where a visit came from: the one rule that turns what a session's first page saw (its landing
URL, its referrer, the visitor note) into session properties.

The page only reports what it saw (recorder/record.js writes `TAG_VISIT` once per session, for the
snippet and `record()` alike); the store applies `visit_properties` where it ingests that event,
so every segment filter, the session list, the compare and the explorer's chips read the results
as any other property.

The channel rule, first match wins:

1. `utm_medium` says email (email, e-mail, newsletter)          -> email
2. `utm_medium` says social (social, social-media, social-network, sm) -> social
3. any of utm_source / utm_medium / utm_campaign                -> campaign
4. no referrer, or one on the landing page's own host and port   -> direct
5. the referrer's host is a webmail (EMAIL_HOSTS: mail.google.com before google.*) -> email
6. ... a search engine (SEARCH_HOSTS)                            -> search
7. ... a social network (SOCIAL_HOSTS)                           -> social
8. anything else                                                 -> referral

A host matches a listed name when it is that name or a subdomain of it (`www.bing.com`,
`l.facebook.com`); a name ending in `.*` matches under any country or generic ending
(`google.*`: google.com, www.google.co.uk, google.de).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from plumbing.events import EventType
from plumbing.vocabulary import (
    CHANNEL,
    FIRST_SEEN,
    REFERRER_HOST,
    TAG_VISIT,
    UTM_KEYS,
    VISITOR,
    VISITOR_KINDS,
)

SEARCH_HOSTS: tuple[str, ...] = (
    "google.*", "bing.com", "duckduckgo.com", "search.yahoo.com", "yandex.*", "baidu.com", "ecosia.org",
    "search.brave.com", "startpage.com", "qwant.com", "kagi.com", "naver.com", "seznam.cz", "yahoo.co.jp",
)
SOCIAL_HOSTS: tuple[str, ...] = (
    "facebook.com", "fb.com", "instagram.com", "t.co", "twitter.com", "x.com", "linkedin.com", "lnkd.in",
    "reddit.com", "news.ycombinator.com", "youtube.com", "youtu.be", "pinterest.*", "tiktok.com",
    "threads.net", "bsky.app", "mastodon.social", "vk.com", "weibo.com",
)
EMAIL_HOSTS: tuple[str, ...] = (
    "mail.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com",
    "mail.yahoo.com", "mail.proton.me", "app.fastmail.com", "mail.aol.com",
)
EMAIL_MEDIUMS = frozenset({"email", "e-mail", "e_mail", "newsletter"})
SOCIAL_MEDIUMS = frozenset({"social", "social-media", "social_media", "social-network", "social_network", "sm"})
MAX_VALUE_CHARS = 200  # a property from a URL is cut here: a landing URL is anyone's to write


def host_matches(host: str, name: str) -> bool:
    """Whether `host` is `name` or a subdomain of it; `name` ending in `.*` takes any ending of one
    or two short labels (com, de, co.uk, com.au)."""
    host = host.lower().rstrip(".")
    if not name.endswith(".*"):
        return host == name or host.endswith("." + name)
    stem = name[:-2].split(".")
    labels = host.split(".")
    for start in range(len(labels) - len(stem)):
        if labels[start:start + len(stem)] == stem:
            ending = labels[start + len(stem):]
            return 1 <= len(ending) <= 2 and all(0 < len(label) <= 3 for label in ending)
    return False


def _listed(host: str, names: tuple[str, ...]) -> bool:
    return any(host_matches(host, name) for name in names)


def utm_tags(landing_url: str) -> dict[str, str]:
    """The landing URL's utm_source, utm_medium and utm_campaign, when present and not empty."""
    try:
        query = parse_qsl(urlsplit(landing_url).query, keep_blank_values=False)
    except ValueError:
        return {}
    tags: dict[str, str] = {}
    for key, value in query:
        key = key.lower()
        if key in UTM_KEYS and key not in tags and value.strip():
            tags[key] = value.strip()[:MAX_VALUE_CHARS]
    return tags


def _netloc(url: str) -> tuple[str, str]:
    """(hostname, host:port as written) of a URL, lowercased; ("", "") when it has none."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        return host, parts.netloc.rpartition("@")[2].lower()
    except ValueError:
        return "", ""


def referrer_host(referrer: str) -> str:
    """The referrer's host name ('' for none, or for a referrer that is not an http(s) URL)."""
    try:
        scheme = urlsplit(referrer.strip()).scheme.lower()
    except ValueError:
        return ""
    return _netloc(referrer)[0][:MAX_VALUE_CHARS] if scheme in ("http", "https") else ""


def channel_of(landing_url: str, referrer: str) -> str:
    """The visit's channel, by the rule in this module's docstring (one of vocabulary.CHANNELS)."""
    tags = utm_tags(landing_url)
    medium = tags.get("utm_medium", "").lower()
    if medium in EMAIL_MEDIUMS:
        return "email"
    if medium in SOCIAL_MEDIUMS:
        return "social"
    if tags:
        return "campaign"
    host = referrer_host(referrer)
    if not host or _netloc(referrer)[1] == _netloc(landing_url)[1]:
        return "direct"
    if _listed(host, EMAIL_HOSTS):
        return "email"
    if _listed(host, SEARCH_HOSTS):
        return "search"
    if _listed(host, SOCIAL_HOSTS):
        return "social"
    return "referral"


def visit_properties(payload: Any) -> dict[str, str]:
    """The session properties a `TAG_VISIT` payload gives: referrer_host, the utm tags, channel,
    and visitor with first_seen when the page reported a visitor note. {} for a payload that is
    not one (a hostile page can send anything)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("href"), str):
        return {}
    href = payload["href"]
    given = payload.get("referrer")
    referrer = given if isinstance(given, str) else ""
    props = {REFERRER_HOST: referrer_host(referrer), **utm_tags(href), CHANNEL: channel_of(href, referrer)}
    if payload.get("visitor") in VISITOR_KINDS:
        props[VISITOR] = payload["visitor"]
        first_seen = payload.get("first_seen")
        if isinstance(first_seen, (int, float)) and not isinstance(first_seen, bool) \
                and 0 < first_seen < 2**53:
            props[FIRST_SEEN] = datetime.fromtimestamp(first_seen / 1000, tz=UTC).date().isoformat()
    return props


def drop_visitor_notes(events: list[dict[str, Any]]) -> bool:
    """Take `visitor` and `first_seen` out of the visit events among `events` (in place), for a
    site whose policy keeps no visitor notes; True if anything was taken out."""
    changed = False
    custom = int(EventType.CUSTOM)  # a plain int: compared with every event of every chunk
    for event in events:
        if event.get("type") != custom:
            continue
        data = event.get("data")
        if isinstance(data, dict) and data.get("tag") == TAG_VISIT:
            payload = data.get("payload")
            if isinstance(payload, dict):
                for key in (VISITOR, FIRST_SEEN):
                    changed |= payload.pop(key, None) is not None
    return changed
