"""The ingestion endpoint: `POST /api/v1/sessions/{session_id}/chunks/{seq}`, safe to expose.

Order of checks, cheapest first, so a hostile request costs little: slots (all sites'), path
(session id, chunk number), site key, origin, slots (this site's: one key cannot hold every slot),
media type and encoding, declared then actual body size and the time the body takes (408 past
`Limits.body_timeout_ms`, so a stalled upload frees its slot), decompressed size, the site's byte
budget (429 with Retry-After), JSON, the shape of every event, the page addresses the events claim
(they must be on the site's origins: see `origins`). Then inputs are masked by the site's policy
(`masking`), what a page says of its visitor note is dropped unless the site keeps notes, and the
chunk goes to the writer, where its session's caps are checked in the same transaction that stores
it (413 past them); the answer (202, saying whether the site keeps visitor notes) waits for that
transaction to commit.
Every refusal is a 4xx with `{"error": reason}`, and nothing of a refused request is stored.

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

from plumbing import json_text
from plumbing.store import ChunkOutcome, ChunkWrite, SessionStore
from plumbing.traffic import drop_visitor_notes

from sessionheat.web.masking import mask_chunk
from sessionheat.web.origins import normalize_origin, origin_allowed, unclaimable_href
from sessionheat.web.payload import (
    MIB,
    Limits,
    Refusal,
    check_session_id,
    chunk_body,
    gunzip_limited,
    parse_body,
    parse_seq,
)
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
    """Accepts chunks over HTTP and hands them to one group-committing writer.

    `masking=False` and `href_checks=False` exist for the ingestion benchmark, which measures
    what they cost; `sessionheat serve` never turns them off.
    """

    def __init__(self, store: SessionStore, *, limits: Limits | None = None, masking: bool = True,
                 href_checks: bool = True):
        self.store = store
        self.limits = limits or Limits()
        self.masking = masking
        self.href_checks = href_checks
        self.sites = SiteKeys(store)
        self.budget = SiteBudget(self.limits.site_bytes_per_s, self.limits.site_burst_bytes)
        self.writer: ChunkWriter | None = None
        self._inflight = 0
        self._site_inflight: dict[str, int] = {}

    def start(self) -> None:
        self.writer = ChunkWriter(self.store)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def routes(self) -> list[Route]:
        return [Route(CHUNK_PATH, self.post_chunk, methods=["POST"], name="collector_chunk"),
                Route(CHUNK_PATH, self.preflight, methods=["OPTIONS"], name="collector_preflight")]

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
        if self._inflight >= self.limits.max_inflight:
            return JSONResponse({"error": "the collector is busy; retry shortly"}, status_code=429,
                                headers={**headers, "Retry-After": "1"})
        self._inflight += 1
        try:
            outcome, seq, site = await self._accept(request)
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
        refused = self._refusal(outcome, seq, site)
        if refused:
            return JSONResponse({"error": refused[1]}, status_code=refused[0], headers=headers)
        duplicate = outcome is ChunkOutcome.DUPLICATE
        # `visitors`: whether the site keeps visitor notes; the snippet keeps (or removes) its note by it.
        return JSONResponse({"ok": True, "stored": not duplicate, "duplicate": duplicate,
                             "visitors": bool(site.get("remember_visitors"))},
                            status_code=202, headers=headers)

    def _refusal(self, outcome: ChunkOutcome, seq: int, site: dict[str, Any]) -> tuple[int, str] | None:
        """The status and reason for an outcome the store refused, or None for a stored chunk."""
        if outcome is ChunkOutcome.CONFLICT:
            return 409, f"chunk {seq} of this session is already stored with other events"
        if outcome is ChunkOutcome.FOREIGN:
            return 403, "this session belongs to another site"
        if outcome is ChunkOutcome.OVER_EVENTS:
            return 413, (f"this session has reached its cap of {self._cap(site, 'events')} events "
                         f"(max_session_events of site {site['name']!r})")
        if outcome is ChunkOutcome.OVER_BYTES:
            return 413, (f"this session has reached its cap of {self._cap(site, 'bytes') / MIB:g} MiB "
                         f"of event data (max_session_bytes of site {site['name']!r})")
        return None

    def _cap(self, site: dict[str, Any], what: str) -> int:
        """The site's own cap on a session's events or bytes, else the collector's (0: none)."""
        own = site.get(f"max_session_{what}")
        return own if own is not None else getattr(self.limits, f"max_session_{what}")

    async def _accept(self, request: Request) -> tuple[ChunkOutcome, int, dict[str, Any]]:
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
            raise Refusal(403, f"origin {origin[:100]!r} is not allowed for site {site['name']!r}")
        name = site["name"]
        if self._site_inflight.get(name, 0) >= self.limits.site_max_inflight:
            raise Refusal(429, f"site {name!r} has {self.limits.site_max_inflight} uploads under way "
                          "already; retry shortly", "1")
        self._site_inflight[name] = self._site_inflight.get(name, 0) + 1
        try:
            return await self._accept_for(request, site, session_id, seq), seq, site
        finally:
            self._site_inflight[name] -= 1
            if not self._site_inflight[name]:
                del self._site_inflight[name]

    async def _accept_for(self, request: Request, site: dict[str, Any], session_id: str,
                          seq: int) -> ChunkOutcome:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in MEDIA_TYPES:
            raise Refusal(415, "send the body as application/json or text/plain")
        encoding = request.headers.get("content-encoding", "").strip().lower()
        if not encoding and request.query_params.get("enc"):
            encoding = request.query_params["enc"].lower()  # browsers would preflight the header
        if encoding not in ("", "identity", "gzip"):
            raise Refusal(415, f"unsupported content encoding {encoding[:40]!r}: use gzip or none")
        timeout_s = self.limits.body_timeout_ms / 1000
        try:
            async with asyncio.timeout(timeout_s):
                body = await self._read_body(request)
        except TimeoutError:
            raise Refusal(408, f"the body did not arrive within {timeout_s:g} s") from None
        raw = gunzip_limited(body, self.limits.max_json) if encoding == "gzip" else body
        if len(raw) > self.limits.max_json:
            raise Refusal(413, f"the body is larger than {self.limits.max_json} bytes")
        wait = self.budget.take(site["key"], len(raw))
        if wait:
            raise Refusal(429, f"site {site['name']!r} is sending more than its "
                          f"{self.limits.site_bytes_per_s} bytes/s; retry later",
                          SiteBudget.retry_after(wait))
        if len(raw) > OFF_LOOP_BYTES:
            write = await asyncio.to_thread(self._prepare, raw, site, session_id, seq)
        else:
            write = self._prepare(raw, site, session_id, seq)
        assert self.writer is not None, "Collector.start() was not called"
        return await self.writer.write(write)

    def _prepare(self, raw: bytes, site: dict[str, Any], session_id: str, seq: int) -> ChunkWrite:
        """The body checked, its claims checked against the site, its inputs masked by its policy."""
        payload, events_text = parse_body(raw)
        chunk = chunk_body(payload, self.limits, time.time() * 1000)
        if self.href_checks:
            problem = unclaimable_href(chunk.events, site["origins"])
            if problem:
                raise Refusal(403, f"{problem} (site {site['name']!r})")
        changed = not site.get("remember_visitors") and drop_visitor_notes(chunk.events)  # keeps no notes
        guard = None
        if self.masking:
            masked = mask_chunk(chunk.events, record_inputs=site["record_inputs"])
            changed |= masked.changed
            guard = masked.guard
        if changed:
            events_text = json_text.dumps(chunk.events).decode("utf-8")
        return ChunkWrite(session_id, seq, chunk.events, site=site["name"], user_agent=chunk.user_agent,
                          viewport=chunk.viewport, raw_json=events_text, guard=guard,
                          max_events=self._cap(site, "events"), max_raw_bytes=self._cap(site, "bytes"))

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
