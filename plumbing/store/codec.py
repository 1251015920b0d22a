"""The chunk codec: events as compressed JSON, long strings moved to the blobs table once."""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from itertools import accumulate, compress
from typing import Any

from plumbing import json_text
from plumbing.events import EventType
from plumbing.store.formats import (
    _json,
)
from plumbing.vocabulary import (
    TAG_ANNOTATION,
)

CODEC = "json+zlib"  # a chunk's events as compressed JSON


CODEC_BLOBS = "json+zlib+blobs"  # the same, with long strings moved to the blobs table


BLOB_MIN_CHARS = 1024  # strings this long (inlined stylesheets, images) are stored once, by hash


BLOB_REF = "$sh_blob"  # {"$sh_blob": sha256} stands for a string in the blobs table


BLOB_LITERAL = "$sh_lit"  # escapes a recorded object that happens to look like a reference


# zlib levels. A chunk is compressed on every ingest, on the collector's core: level 6 cost it
# 0.7 ms per chunk of 250 events (about a seventh of its CPU), level 3 a third of that, for stored
# bytes of 13.7 % of the raw JSON instead of 12.3 % (12 demo visitors). A blob is compressed only
# when it is new to the store, so it keeps the denser level.
CHUNK_LEVEL = 3
BLOB_LEVEL = 6


@dataclass
class EncodedChunk:
    codec: str
    data: bytes
    raw_size: int  # bytes of the events as JSON, before anything was taken out
    blobs: dict[str, str]  # hash -> long string, to store once in the blobs table
    t_first: int = 0  # the earliest and latest event timestamps (epoch ms), read once here for
    t_last: int = 0  # the chunk's row and its session's (0 for no events)


def compressed_blob(text: str) -> bytes:
    """A blob's text as the blobs table holds it."""
    return zlib.compress(text.encode("utf-8"), BLOB_LEVEL)


# A quote and then BLOB_MIN_CHARS characters none of which is a quote: where JSON text (its escaped
# quotes blanked) has no such run, it holds no string long enough to be a blob.
_LONG_STRING_START = re.compile(f'"[^"]{{{BLOB_MIN_CHARS}}}')


def _extract_blobs(value: Any, blobs: dict[str, str]) -> Any:
    if isinstance(value, str):
        if len(value) < BLOB_MIN_CHARS:
            return value
        try:
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 blob can hold it, so it stays inline
            return value
        blobs[digest] = value
        return {BLOB_REF: digest}
    if isinstance(value, list):
        return [_extract_blobs(v, blobs) for v in value]
    if isinstance(value, dict):
        out = {k: _extract_blobs(v, blobs) for k, v in value.items()}
        return {BLOB_LITERAL: out} if len(value) == 1 and (BLOB_REF in value or BLOB_LITERAL in value) else out
    return value


def _extract_blobs_text(raw: str, blobs: dict[str, str]) -> str:
    """The JSON text `raw` with each long string value swapped for a blob reference, as
    `_extract_blobs` does to the parsed events. Walking every value of a recorder's batch cost
    about 0.1 s per MB, on the core the recorded page needs; this reads only the long strings.
    Keys are left alone (the walker does not move them), and a string is measured decoded.
    The caller checks first that no recorded object looks like a reference."""
    blanked = _blank_escapes(raw) if "\\" in raw else raw
    if _LONG_STRING_START.search(blanked) is None:  # most chunks: a scan in C, a fifth of the split
        return raw
    parts = blanked.split('"')  # odd parts: strings (keys too), at the same places in raw
    if len(parts) % 2 == 0:
        raise ValueError("unterminated string")
    long = list(compress(range(1, len(parts), 2), map(BLOB_MIN_CHARS.__le__, map(len, parts[1::2]))))
    if not long:
        return raw
    ends = list(accumulate(map(len, parts)))  # part i spans ends[i-1] + i .. ends[i] + i
    out: list[str] = []
    last = 0
    for i in long:
        start, end = ends[i - 1] + i - 1, ends[i] + i  # its opening and closing quote
        if parts[i + 1].lstrip().startswith(":"):  # a key: the walker leaves keys alone
            continue
        value = json.loads(raw[start:end + 1])
        if len(value) < BLOB_MIN_CHARS:  # long only escaped
            continue
        try:
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:  # a lone surrogate stays inline, as in _extract_blobs
            continue
        blobs[digest] = value
        out += [raw[last:start], '{"', BLOB_REF, '":"', digest, '"}']
        last = end + 1
    out.append(raw[last:])
    return "".join(out)


def _restore_blobs(value: Any, lookup: Any) -> Any:
    """`value` with every blob reference replaced by its string, changed in place (it was just
    decoded): rebuilding every list and dict of a session's events cost more than reading it."""
    if isinstance(value, dict) and len(value) == 1:
        if BLOB_REF in value:
            return lookup(value[BLOB_REF])
        if BLOB_LITERAL in value:
            value = value[BLOB_LITERAL]
            for k, v in value.items():
                if isinstance(v, (dict, list)):
                    value[k] = _restore_blobs(v, lookup)
            return value
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                value[k] = _restore_blobs(v, lookup)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                value[i] = _restore_blobs(v, lookup)
    return value


def _blank_escapes(raw: str) -> str:
    """JSON text with escaped backslashes and quotes blanked to same-length filler: what lies
    between two quotes of the result is one string's text, at the same place in `raw`."""
    return raw.replace("\\\\", "__").replace('\\"', "__")


def _utf8(text: str, value: Any) -> bytes:
    """`text` (the JSON of `value`) as UTF-8. A lone surrogate (a page can hold broken text) cannot
    be UTF-8: then the JSON is written with \\u escapes instead, which read back the same."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def encode_events(events: list[dict[str, Any]], raw_json: str | None = None) -> EncodedChunk:
    """Compress a chunk. Long strings (the site's inlined CSS, repeated in every page's snapshot
    and every visitor's session) go to the blobs table once; that is most of what a session weighs.

    `raw_json` is the events' JSON text when the caller has it (the collector keeps what it
    received), which spares dumping the events again.
    """
    stamps = [event["timestamp"] for event in events]
    bounds = (int(min(stamps)), int(max(stamps))) if stamps else (0, 0)
    raw = _json(events) if raw_json is None else raw_json
    raw_bytes = _utf8(raw, events)
    blobs: dict[str, str] = {}
    if BLOB_REF not in raw and BLOB_LITERAL not in raw:  # nothing recorded looks like a reference
        try:
            body = _extract_blobs_text(raw, blobs)
            if not blobs:
                return EncodedChunk(CODEC, zlib.compress(raw_bytes, CHUNK_LEVEL), len(raw_bytes), {}, *bounds)
            return EncodedChunk(CODEC_BLOBS, zlib.compress(body.encode("utf-8"), CHUNK_LEVEL), len(raw_bytes),
                                blobs, *bounds)
        except (UnicodeEncodeError, ValueError):  # a lone surrogate kept inline, text that is not JSON
            blobs = {}
    body = _extract_blobs(events, blobs)
    return EncodedChunk(CODEC_BLOBS, zlib.compress(_utf8(_json(body), body), CHUNK_LEVEL), len(raw_bytes), blobs,
                        *bounds)


# A blob reference as `encode_events` writes it. In JSON text this can only be an object (a quote
# inside a string is escaped), so where no escaped literal is about, swapping each for its string's
# JSON before parsing is exact, and cheaper than walking every event afterwards.
_BLOB_REF_TEXT = re.compile(rb'\{\s*"' + re.escape(BLOB_REF.encode()) + rb'"\s*:\s*"([0-9a-f]{64})"\s*\}')


_BLOB_LITERAL_TEXT = f'"{BLOB_LITERAL}"'.encode()


def decode_chunk(codec: str, data: bytes, blob: Any = None) -> list[dict[str, Any]]:
    """Events of a stored chunk; `blob(hash) -> str` resolves strings moved to the blobs table."""
    if codec not in (CODEC, CODEC_BLOBS):
        raise ValueError(f"unknown codec {codec!r}")
    raw = zlib.decompress(data)
    if codec == CODEC:
        events = json_text.loads(raw)
    elif blob is None:
        raise ValueError("this chunk needs the blobs table to decode")
    elif _BLOB_LITERAL_TEXT not in raw:
        inlined = _BLOB_REF_TEXT.sub(lambda m: json_text.dumps(blob(m.group(1).decode("ascii"))), raw)
        events = json_text.loads(inlined)
    else:
        events = _restore_blobs(json_text.loads(raw), blob)
    if not isinstance(events, list):
        raise ValueError("chunk does not hold a list of events")
    return events


def _event_name(payload: Any) -> str | None:
    """The name of a custom event a page fired (a `TAG_ANNOTATION` payload), if it has one."""
    name = payload.get("name") if isinstance(payload, dict) else None
    return name if isinstance(name, str) and name else None


def _named_events(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(epoch ms, name) of each custom event a page fired among `events` (what event goals match)."""
    named = []
    for event in events:
        data = event.get("data") if event.get("type") == EventType.CUSTOM else None
        name = _event_name(data.get("payload")) if isinstance(data, dict) and data.get("tag") == TAG_ANNOTATION else None
        if name:
            named.append((int(event["timestamp"]), name))
    return named
