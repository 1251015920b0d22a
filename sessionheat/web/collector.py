"""The ingestion endpoint: `POST /api/v1/sessions/{session_id}/chunks/{seq}`, safe to expose.

Order of checks, cheapest first, so a hostile request costs little: path (session id, chunk number),
site key, origin, media type and encoding, declared then actual body size, decompressed size, the
site's byte budget (429 with Retry-After), JSON, the shape of every event, the page addresses the
events claim (they must be on the site's origins: see `origins`). Only then does the chunk
reach the writer, and the answer (202) waits for its transaction to commit. Every refusal is a 4xx
with `{"error": reason}`, and nothing of a refused request is stored.

Replays of a chunk number are settled by content: the same events again (a retry after a lost
acknowledgement) get 202 again with `"duplicate": true`; other events under a stored number get 409.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionheat.store import ChunkOutcome, ChunkWrite, SessionStore
from sessionheat.web.payload import (
    ChunkBody,
    Limits,
    Refusal,
    check_session_id,
    chunk_body,
    gunzip_limited,
    parse_body,
    parse_seq,
)
from sessionheat.web.origins import normalize_origin, origin_allowed, unclaimable_href
from sessionheat.web.site_budget import SiteBudget
from sessionheat.web.writer import ChunkWriter

__all__ = ["CHUNK_PATH", "SITE_KEYS_TTL_S", "Collector", "normalize_origin"]

log = logging.getLogger("sessionheat.collector")

SITE_HEADER = "x-sessionheat-site"
CHUNK_PATH = "/api/v1/sessions/{session_id}/chunks/{seq}"
MEDIA_TYPES = {"", "application/json", "text/plain"}  # text/plain spares browsers a preflight
OFF_LOOP_BYTES = 256 * 1024  # bodies larger than this are parsed in a worker thread


SITE_KEYS_TTL_S = 5.0  # a running collector sees an added, removed or re-keyed site within this


class SiteKeys:
    """Site keys and their origins, cached so a request never queues behind a commit for a lookup.

    Refreshed every `ttl` seconds, and sooner (at most once per `min_refresh`) when an unknown key
    shows up, so `sessionheat sites add` takes effect without a restart and random keys cannot turn
    into a flood of queries.
    """

    def __init__(self, store: SessionStore, *, ttl: float = SITE_KEYS_TTL_S, min_refresh: float = 1.0):
        self.store = store
        self.ttl = ttl
        self.min_refresh = min_refresh
        self._sites: dict[str, dict[str, Any]] = {}
        self._loaded = -float("inf")
        self._lock = asyncio.Lock()

    async def lookup(self, key: str) -> dict[str, Any] | None:
        age = time.monotonic() - self._loaded
        if age > self.ttl or (key not in self._sites and age > self.min_refresh):
            async with self._lock:
                if time.monotonic() - self._loaded > self.min_refresh:
                    sites = await asyncio.to_thread(self.store.list_sites)
                    self._sites = {site["key"]: site for site in sites}
                    self._loaded = time.monotonic()
        return self._sites.get(key)


def cors_headers(request: Request) -> dict[str, str]:
    """Let the page read our answer, refusals included, so the snippet stops retrying a refused chunk.

    Echoing the origin exposes nothing: no credentials are allowed and answers hold no data. The
    allowlist is enforced where it matters, by refusing to store.
    """
    origin = request.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


class Collector:
    """Accepts chunks over HTTP and hands them to one group-committing writer."""

    def __init__(self, store: SessionStore, *, limits: Limits | None = None, max_inflight: int = 512):
        self.store = store
        self.limits = limits or Limits()
        self.max_inflight = max_inflight
        self.sites = SiteKeys(store)
        self.budget = SiteBudget(self.limits.site_bytes_per_s, self.limits.site_burst_bytes)
        self.writer: ChunkWriter | None = None
        self._inflight = 0

    def start(self) -> None:
        self.writer = ChunkWriter(self.store)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def routes(self) -> list[Route]:
        return [Route(CHUNK_PATH, self.post_chunk, methods=["POST"]),
                Route(CHUNK_PATH, self.preflight, methods=["OPTIONS"])]

    async def preflight(self, request: Request) -> Response:
        """CORS preflight for clients that send our header or gzip; the POST itself judges the origin."""
        headers = cors_headers(request)
        headers.update({
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, X-Sessionheat-Site",
            "Access-Control-Max-Age": "600",
        })
        return Response(status_code=204, headers=headers)

    async def post_chunk(self, request: Request) -> Response:
        headers = cors_headers(request)
        if self._inflight >= self.max_inflight:
            return JSONResponse({"error": "the collector is busy; retry shortly"}, status_code=429,
                                headers={**headers, "Retry-After": "1"})
        self._inflight += 1
        try:
            outcome, seq = await self._accept(request)
        except Refusal as refusal:
            if refusal.retry_after:
                headers["Retry-After"] = refusal.retry_after
            return JSONResponse({"error": refusal.reason}, status_code=refusal.status, headers=headers)
        except Exception:  # the disk or the database failed: not the sender's fault, so a retry helps
            log.exception("could not store a chunk")
            return JSONResponse({"error": "the chunk could not be stored; retry later"},
                                status_code=503, headers={**headers, "Retry-After": "5"})
        finally:
            self._inflight -= 1
        if outcome is ChunkOutcome.CONFLICT:
            return JSONResponse({"error": f"chunk {seq} of this session is already stored with "
                                 "other events"}, status_code=409, headers=headers)
        if outcome is ChunkOutcome.FOREIGN:
            return JSONResponse({"error": "this session belongs to another site"}, status_code=403,
                                headers=headers)
        duplicate = outcome is ChunkOutcome.DUPLICATE
        return JSONResponse({"ok": True, "stored": not duplicate, "duplicate": duplicate},
                            status_code=202, headers=headers)

    async def _accept(self, request: Request) -> tuple[ChunkOutcome, int]:
        session_id = check_session_id(request.path_params["session_id"])
        seq = parse_seq(request.path_params["seq"])
        key = request.headers.get(SITE_HEADER) or request.query_params.get("site")
        if not key:
            raise Refusal(401, "no site key: send it in X-Sessionheat-Site or ?site=")
        site = await self.sites.lookup(key) if len(key) <= 100 else None
        if site is None:
            raise Refusal(403, "unknown site key")
        origin = request.headers.get("origin")  # browsers always send it; other clients may not
        if origin is not None and not origin_allowed(site["origins"], origin):
            raise Refusal(403, f"origin {request.headers['origin'][:100]!r} is not allowed for "
                          f"site {site['name']!r}")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise Refusal(415, "send the body as application/json or text/plain")
        encoding = request.headers.get("content-encoding", "").strip().lower()
        if not encoding and request.query_params.get("enc"):
            encoding = request.query_params["enc"].lower()  # browsers would preflight the header
        if encoding not in ("", "identity", "gzip"):
            raise Refusal(415, f"unsupported content encoding {encoding[:40]!r}: use gzip or none")
        body = await self._read_body(request)
        raw = gunzip_limited(body, self.limits.max_json) if encoding == "gzip" else body
        if len(raw) > self.limits.max_json:
            raise Refusal(413, f"the body is larger than {self.limits.max_json} bytes")
        wait = self.budget.take(site["key"], len(raw))
        if wait:
            raise Refusal(429, f"site {site['name']!r} is sending more than its "
                          f"{self.limits.site_bytes_per_s} bytes/s; retry later",
                          SiteBudget.retry_after(wait))
        if len(raw) > OFF_LOOP_BYTES:
            chunk, events_text = await asyncio.to_thread(self._parse, raw)
        else:
            chunk, events_text = self._parse(raw)
        problem = unclaimable_href(chunk.events, site["origins"])
        if problem:
            raise Refusal(403, f"{problem} (site {site['name']!r})")
        assert self.writer is not None, "Collector.start() was not called"
        write = ChunkWrite(session_id, seq, chunk.events, site=site["name"],
                           user_agent=chunk.user_agent, viewport=chunk.viewport, raw_json=events_text)
        return await self.writer.write(write), seq

    def _parse(self, raw: bytes) -> tuple[ChunkBody, str | None]:
        payload, events_text = parse_body(raw)
        return chunk_body(payload, self.limits, time.time() * 1000), events_text

    async def _read_body(self, request: Request) -> bytes:
        """The body, refused as soon as it is known to exceed the limit (before reading, if declared)."""
        limit = self.limits.max_body
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Refusal(400, "Content-Length is not a number")
            if int(declared) > limit:
                raise Refusal(413, f"the body is larger than {limit} bytes")
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise Refusal(413, f"the body is larger than {limit} bytes")
        return bytes(body)
