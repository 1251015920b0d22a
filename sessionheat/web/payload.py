"""Turning one untrusted request body into a chunk the store can take, or a refusal saying why.

Everything here is pure and synchronous, so the bad-input tests and the property test exercise the
exact code the endpoint runs. A `Refusal` carries the HTTP status and the reason sent back as JSON.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from plumbing.events import events_problem
from plumbing.vocabulary import (
    MAX_VIEWPORT_PX,
    MIB,
    SESSION_BYTES_CAP,
    SESSION_EVENTS_CAP,
    SESSION_ID_RE,
    SESSION_ID_RULE,
)

MAX_SEQ = 2**31 - 1
META_FIELDS = {"userAgent", "viewport", "version"}


class Refusal(Exception):
    """A request the collector refuses: `status` is the 4xx to answer, `reason` says why, and
    `retry_after` (seconds), when set, tells the sender when trying again will work."""

    def __init__(self, status: int, reason: str, retry_after: str | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after




@dataclass(frozen=True)
class Limits:
    """What one request, one session and one site may cost the server. Sizes are bytes; times ms.

    Session caps (a site may set its own: `sessionheat sites set NAME --max-session-mb N`): a
    heavy single-page app visited for 2 hours sends a few full snapshots (1-3 MB each, mostly
    inlined CSS) and, while the visitor is active, some 10-20 events a second (rrweb batches mouse
    positions every 500 ms, throttles scrolls to 100 ms; the app's own mutations come in bursts):
    about 150 000 events and 20-30 MB of JSON. The caps sit above that, at 200 000 events and
    32 MiB. They also bound what opening a session costs: the player page reads, inflates and
    sends the whole session, and a 47 MB one took the server 1-2 s each time it was opened. Past a
    cap a chunk gets 413 and the snippet stops that session; what it recorded stays replayable.
    """

    max_body: int = 4 * MIB  # as sent (compressed or not)
    max_json: int = 16 * MIB  # after decompression
    max_events: int = 20_000  # per chunk
    max_session_events: int = SESSION_EVENTS_CAP  # per session (0: no cap), unless its site sets its own
    max_session_bytes: int = SESSION_BYTES_CAP  # event JSON per session, inflated (0: no cap), likewise
    body_timeout_ms: int = 10_000  # the whole body must arrive within this (408 after): a chunk is
    # tens of KB, seconds even on a poor mobile link, while a stalled upload holds a slot
    max_inflight: int = 512  # requests being read or written at once, all sites together ...
    site_max_inflight: int = 64  # ... and for any one site, so one key cannot hold every slot
    max_future_ms: int = 24 * 3600 * 1000  # events this far ahead of the server's clock are refused
    max_age_ms: int = 30 * 24 * 3600 * 1000  # ... and this far behind (a tab restored much later)
    site_bytes_per_s: int = 8 * 1024 * 1024  # event JSON per site and second (0: no limit) ...
    site_burst_bytes: int = 128 * 1024 * 1024  # ... with bursts up to this much


@dataclass(frozen=True)
class ChunkBody:
    events: list[dict[str, Any]]
    user_agent: str
    viewport: tuple[int, int] | None


def check_session_id(session_id: str) -> str:
    if not SESSION_ID_RE.match(session_id):
        raise Refusal(400, SESSION_ID_RULE)
    return session_id


def parse_seq(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_SEQ:
        raise Refusal(400, f"a chunk number is an integer from 0 to {MAX_SEQ}")
    return int(text)


def gunzip_limited(body: bytes, limit: int) -> bytes:
    """Inflate a gzip body, refusing it as soon as it would exceed `limit` bytes.

    A decompression bomb is refused after inflating at most `limit + 1` bytes, never in full.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise Refusal(400, f"the body is not valid gzip: {exc}") from None
    if len(out) > limit:
        raise Refusal(413, f"the body inflates to more than {limit} bytes")
    if not inflater.eof:
        raise Refusal(400, "the gzip body is truncated")
    if inflater.unused_data:
        raise Refusal(400, "unexpected data after the gzip stream")
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


_WS = re.compile(r"[ \t\n\r]*")


def _ws_end(text: str, i: int = 0) -> int:
    """Where the JSON whitespace starting at `i` ends (`_WS` matches the empty string too)."""
    found = _WS.match(text, i)
    assert found is not None
    return found.end()


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _object_members(text: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
    """A top-level JSON object parsed member by member, with where each value's text lies.

    None if the text is not an object. Same grammar and decoder as `json.loads`; it exists so the
    events array can be stored as the very text received instead of being dumped again.
    """
    i = _ws_end(text)
    if text[i:i + 1] != "{":
        return None
    members: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    i = _ws_end(text, i + 1)
    if text[i:i + 1] == "}":
        i += 1
    else:
        while True:
            key, i = _DECODER.raw_decode(text, i)
            if type(key) is not str:
                raise ValueError(f"an object key must be a string (char {i})")
            i = _ws_end(text, i)
            if text[i:i + 1] != ":":
                raise ValueError(f"expected ':' (char {i})")
            start = _ws_end(text, i + 1)
            members[key], i = _DECODER.raw_decode(text, start)
            spans[key] = (start, i)
            i = _ws_end(text, i)
            separator, i = text[i:i + 1], i + 1
            if separator == "}":
                break
            if separator != ",":
                raise ValueError(f"expected ',' or '}}' (char {i - 1})")
            i = _ws_end(text, i)
    if _ws_end(text, i) != len(text):
        raise ValueError(f"extra data after the object (char {i})")
    return members, spans


# Bytes mapped to "1" for a digit, "0" otherwise: a run of 19 digits is an integer orjson may not
# hold (past 64 bits it reads one as a float), or digits in a string or a long fraction.
_DIGITS = bytes(0x31 if 0x30 <= b <= 0x39 else 0x30 for b in range(256))
_LONG_DIGIT_RUN = b"1" * 19


def parse_body(raw: bytes) -> tuple[Any, str | None]:
    """Strict JSON (UTF-8, no NaN/Infinity, no overflowing numbers, nesting Python can hold), and
    the text of the top-level "events" member when there is one.

    orjson reads a body and writes its events back in 0.55 ms where the member-by-member parser
    took 0.85 ms (250 events: the collector's largest cost). It refuses all that JSON refuses;
    where it refuses more (a lone surrogate, nesting deeper than it writes) or may read
    differently (an integer of 19 digits or more), `parse_body_members` decides."""
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS):
        try:
            payload = orjson.loads(raw)
            if type(payload) is dict and "events" in payload:
                for key, value in payload.items():  # nesting orjson cannot write is refused below
                    if key != "events" and isinstance(value, (dict, list)):
                        orjson.dumps(value)
                return payload, orjson.dumps(payload["events"]).decode("utf-8")
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass
    return parse_body_members(raw)


def parse_body_members(raw: bytes) -> tuple[Any, str | None]:
    """`parse_body` by the standard library, member by member, with the exact text of the
    top-level "events" member when there is one."""
    try:
        text = raw.decode("utf-8")
        parsed = _object_members(text)
        if parsed is None:
            return _DECODER.decode(text), None
        members, spans = parsed
        if "events" not in spans:
            return members, None
        start, end = spans["events"]
        return members, text[start:end]
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    except RecursionError:
        raise Refusal(400, "the body's JSON is nested too deeply") from None
    except ValueError as exc:
        raise Refusal(400, f"the body is not valid JSON: {exc}") from None


def _meta(meta: Any) -> tuple[str, tuple[int, int] | None]:
    if meta is None:
        return "", None
    if not isinstance(meta, dict):
        raise Refusal(422, "'meta' must be an object")
    unknown = meta.keys() - META_FIELDS
    if unknown:
        raise Refusal(422, f"unknown meta field {sorted(unknown)[0]!r}")
    user_agent = meta.get("userAgent", "")
    if not isinstance(user_agent, str) or len(user_agent) > 1024:
        raise Refusal(422, "meta.userAgent must be a string of at most 1024 characters")
    version = meta.get("version", "")
    if not isinstance(version, str) or len(version) > 64:
        raise Refusal(422, "meta.version must be a string of at most 64 characters")
    viewport = meta.get("viewport")
    if viewport is None:
        return user_agent, None
    if not (isinstance(viewport, list) and len(viewport) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_VIEWPORT_PX
                    for v in viewport)):
        raise Refusal(422, "meta.viewport must be [width, height] in px")
    return user_agent, (viewport[0], viewport[1])


def chunk_body(payload: Any, limits: Limits, now_ms: float) -> ChunkBody:
    """Check a parsed body `{"events": [...], "meta": {...}}` strictly; refuse with the reason."""
    if not isinstance(payload, dict):
        raise Refusal(422, 'the body must be a JSON object {"events": [...], "meta": {...}}')
    unknown = payload.keys() - {"events", "meta"}
    if unknown:
        raise Refusal(422, f"unknown body field {sorted(unknown)[0]!r}")
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        raise Refusal(422, "'events' must be a non-empty array of rrweb events")
    if len(events) > limits.max_events:
        raise Refusal(413, f"a chunk holds at most {limits.max_events} events")
    problem = events_problem(events)
    if problem:
        raise Refusal(422, problem)
    low, high = now_ms - limits.max_age_ms, now_ms + limits.max_future_ms
    for i, event in enumerate(events):
        if not low <= event["timestamp"] <= high:
            raise Refusal(422, f"event {i}: timestamp {event['timestamp']} is too far from the "
                          "server's clock")
    user_agent, viewport = _meta(payload.get("meta"))
    return ChunkBody(events, user_agent, viewport)
