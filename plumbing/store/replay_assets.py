"""Replay assets in the store: what a replay fetched from a recorded site (images, fonts, style
sheets), kept by content so that a worker on another machine needs only the database.

A body is stored once by its sha256 (`assets`), whatever sites and URLs answered with it;
`asset_urls` says, per site and URL, which body and what status and headers came with it. Only
answers below 400 are kept (a failure may be passing). replay/host.py's AssetCache reads and fills it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

from plumbing.store.connection import StoreConnection
from plumbing.store.formats import _now_iso

COMPRESSED = "zlib"  # `assets.encoding` when compressing paid (text: CSS, SVG, fonts often not)


class ReplayAssets(StoreConnection):
    """`replay_asset` and `keep_replay_asset`: the asset cache every replay of this store shares."""

    def replay_asset(self, site: str, url: str) -> tuple[int, dict[str, str], bytes] | None:
        """(status, headers, body) a replay of `site` was answered for `url`, if one is kept."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT u.status, u.headers, a.encoding, a.data FROM asset_urls u JOIN assets a ON a.hash = u.hash"
                " WHERE u.site = ? AND u.url = ?", (site, url)).fetchone()
        if row is None:
            return None
        try:
            body = zlib.decompress(row[3]) if row[2] == COMPRESSED else bytes(row[3])
            headers = json.loads(row[1])
        except (zlib.error, ValueError):  # damaged: fetched again, and kept again
            return None
        return int(row[0]), {str(k): str(v) for k, v in headers.items()}, body

    def keep_replay_asset(self, site: str, url: str, status: int, headers: dict[str, str], body: bytes) -> None:
        """Keep an answer for `site`'s replays (the body once, by hash; a URL's latest answer wins)."""
        digest = hashlib.sha256(body).hexdigest()
        packed = zlib.compress(body, 6)
        encoding, data = (COMPRESSED, packed) if len(packed) < len(body) * 0.9 else ("", body)
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO assets (hash, encoding, data) VALUES (?, ?, ?)",
                         (digest, encoding, data))
            conn.execute(
                "INSERT INTO asset_urls (site, url, status, headers, hash, fetched_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (site, url) DO UPDATE SET status = excluded.status, headers = excluded.headers,"
                " hash = excluded.hash, fetched_at = excluded.fetched_at",
                (site, url, int(status), json.dumps(headers, sort_keys=True), digest, _now_iso()))

    def adopt_asset_folder(self, folder: Path) -> int:
        """Keep the answers of an asset folder (`<db>.assets/`, where stores kept them before they
        lived in the store) in the store, then rename it `<name>.adopted`, so it is read once and
        nothing is deleted. Returns how many answers were kept; an unreadable file is skipped."""
        kept = 0
        for meta_path in sorted(folder.glob("site-*/*/*.json")):
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                body = meta_path.with_suffix(".body").read_bytes()
                if meta["size"] != len(body) or int(meta["status"]) >= 400:
                    continue
                self.keep_replay_asset(str(meta["site"]), str(meta["url"]), int(meta["status"]),
                                       {str(k): str(v) for k, v in dict(meta["headers"]).items()}, body)
                kept += 1
            except (OSError, ValueError, KeyError, TypeError):  # torn or not ours
                continue
        try:
            folder.rename(folder.with_name(folder.name + ".adopted"))
        except OSError:  # another process adopted it just now, or the disk is read-only
            pass
        return kept

    def replay_asset_stats(self) -> dict[str, Any]:
        """How many URLs and distinct bodies are kept, and their stored bytes."""
        with self._read() as conn:
            urls = int(conn.execute("SELECT COUNT(*) FROM asset_urls").fetchone()[0])
            bodies, size = conn.execute("SELECT COUNT(*), COALESCE(SUM(length(data)), 0) FROM assets").fetchone()
        return {"urls": urls, "bodies": int(bodies), "stored_bytes": int(size)}
