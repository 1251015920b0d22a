"""A standalone, offline HTML player for one session (vendored rrweb-player, opens from file://).

Everything it needs is inside the file: the player, its styles, the events and (see
`replay.inline_assets`) the images, fonts and style sheets the recorded pages showed. Its
Content-Security-Policy runs only the file's own two scripts, lets the recorded page's assets come
only from the origins the session recorded, its pages' and those they loaded assets from (less those
leading inside the network that the session does not vouch for, see `plumbing.addresses`), and
lets nothing connect anywhere.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from plumbing.addresses import reachable_origins, vouched_origins
from plumbing.assets import amd_safe, package_text, vendor_text
from plumbing.store import SessionStore

from replay.fetch import asset_origins
from replay.host import AssetCache, NetworkGuard, content_security_policy
from replay.inline_assets import inline_assets
from replay.timeline import Timeline

_MARKER = re.compile(r"/\*@([A-Z_]+)@\*/")


def player_html(events: list[dict[str, Any]], *, title: str = "sessionheat session", problems: Sequence[str] = (),
                vouched: Iterable[str] = ()) -> str:
    """The player page's text for these events; of their origins, only `vouched` ones may lead
    inside the network (their names are looked up now, as a best effort)."""
    timeline = Timeline(events)
    origins = reachable_origins(timeline.page_origins() | asset_origins(events), vouched, resolve=True)
    nonce = secrets.token_urlsafe(16)
    csp = content_security_policy(nonce, origins)
    # JSON inside <script type="application/json">: "<" escaped so recorded text cannot close it.
    data = json.dumps(events, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    summary = f"{len(events)} events, {timeline.duration / 1000:.1f} s, {len(timeline.interactions())} clicks"
    damage = "; ".join(problems)
    damage = f"Replays up to the damage: {damage}" if damage else ""
    values = {
        "CSP": html.escape(csp), "TITLE": html.escape(title), "SUMMARY": html.escape(summary),
        "DAMAGE": html.escape(damage), "NONCE": nonce, "EVENTS": data,
        "PLAYER_CSS": vendor_text("rrweb-player.css"),
        "PLAYER_JS": amd_safe(vendor_text("rrweb-player.js"), "holder"),
    }
    # One pass: text put in is never searched again, so recorded text cannot smuggle a marker.
    return _MARKER.sub(lambda m: values[m.group(1)], package_text("replay", "player.html"))


def write_player_html(store: SessionStore, session_id: str, path: str | Path, *,
                      inline: bool = True, assets: AssetCache | None = None) -> Path:
    """Write the session's player page to `path`; it plays up to any damage, and says so.

    `inline`: the images, fonts and style sheets the pages showed go into the file as data: URLs
    (`replay.inline_assets`), fetched as a replay fetches them, through `assets` (by default the
    store's asset cache, so what a replay fetched before is reused): the file plays the same once
    the site is gone. Without it the player loads them from the site when opened.
    """
    read = store.read_events(session_id)
    session = store.get_session(session_id)
    site = session.site if session else ""
    recorded = Timeline(read.events).page_origins() | asset_origins(read.events)  # pages, what they loaded
    vouched = vouched_origins(site, store.site_origins(), recorded)
    events = read.events
    if inline:
        guard = NetworkGuard(frozenset(recorded), cache=assets or AssetCache.for_store(store),
                             vouched_origins=vouched, site=site)
        events, _left = inline_assets(events, guard)
    path = Path(path)
    path.write_text(player_html(events, title=f"Session {session_id}", problems=[p.reason for p in read.problems],
                                vouched=vouched), encoding="utf-8")
    return path
