"""Ingestion over HTTP on loopback: `sessionheat serve` in its own process, several senders.

Each sender is one visitor's tab: its own session and keep-alive connection, posting numbered,
gzipped chunks of realistic rrweb events (mostly mouse moves and mutations, as the snippet sends
them) one after another and waiting for each 202, which the collector gives only once the chunk is
committed with `synchronous=FULL`. Two runs: as fast as the senders go (throughput), then paced at
the target rate (latency at that load). Bounded in chunks and seconds; 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import Figure

TARGET_EVENTS_PER_S = 50_000
EVENTS_PER_CHUNK = 250


def chunk_events(rng: random.Random, t0: int, seq: int) -> list[dict]:
    """A chunk as a busy page sends it: moves, scrolls, small mutations, an input, a click."""
    events: list[dict] = []
    t = t0 + seq * 2000
    if seq == 0:
        events += [{"type": 4, "timestamp": t, "data": {"href": "http://127.0.0.1:1/p", "width": 1280,
                                                          "height": 800}},
                   {"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [
                       {"type": 2, "id": i + 2, "tagName": "div", "attributes": {"class": f"c{i}"},
                        "childNodes": []} for i in range(200)]}, "initialOffset": {"left": 0, "top": 0}}}]
    while len(events) < EVENTS_PER_CHUNK:
        t += rng.randint(1, 15)
        kind = rng.random()
        if kind < 0.55:
            data = {"source": 1, "positions": [
                {"x": rng.randint(0, 1280), "y": rng.randint(0, 800), "id": rng.randint(1, 200),
                 "timeOffset": -k * 16} for k in range(rng.randint(1, 6))]}
        elif kind < 0.75:
            data = {"source": 0, "texts": [], "attributes": [
                {"id": rng.randint(2, 200), "attributes": {"class": f"c{rng.randint(0, 9)} on"}}],
                "removes": [], "adds": []}
        elif kind < 0.9:
            data = {"source": 3, "id": 1, "x": 0, "y": rng.randint(0, 4000)}
        elif kind < 0.97:
            data = {"source": 5, "id": rng.randint(2, 200), "text": "*" * rng.randint(1, 12),
                    "isChecked": False}
        else:
            data = {"source": 2, "type": 2, "id": rng.randint(2, 200), "x": rng.randint(0, 1280),
                    "y": rng.randint(0, 800)}
        events.append({"type": 3, "timestamp": t, "data": data})
    return events


async def _sender(port: int, key: str, sid: str, bodies: list[bytes], latencies: list[float],
                  deadline: float, interval: float | None, phase: float) -> int:
    """Post `bodies` in order on one connection; returns the chunks acknowledged.

    Paced senders flush every `interval` seconds from their own `phase`, as tabs opened at
    different moments do (all in step, they would only measure their own queue).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    start = time.perf_counter() + phase
    try:
        for seq, body in enumerate(bodies):
            if interval is not None:  # paced: an open schedule, like tabs flushing on a timer
                delay = start + seq * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            if time.perf_counter() > deadline:
                break
            head = (f"POST /api/v1/sessions/{sid}/chunks/{seq}?site={key} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n"
                    f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            sent = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if b" 202 " not in status_line:
                raise RuntimeError(f"chunk refused: {status_line!r}")
            done += 1
    finally:
        writer.close()
    return done


async def _load(port: int, key: str, tag: str, senders: int, chunks: int, seconds: float,
                rate: float | None) -> tuple[int, float, list[float]]:
    rng = random.Random(1)
    t0 = int(time.time() * 1000)
    plans = []
    for n in range(senders):
        bodies = [gzip.compress(json.dumps({"events": chunk_events(rng, t0, seq)}).encode(), 6)
                  for seq in range(chunks)]
        plans.append((f"bench-{tag}-{n:03d}-xx", bodies))
    latencies: list[float] = []
    interval = None if rate is None else senders * EVENTS_PER_CHUNK / rate
    start = time.perf_counter()
    deadline = start + seconds
    phases = [0.0 if interval is None else rng.uniform(0, interval) for _ in plans]
    done = await asyncio.gather(*(_sender(port, key, sid, bodies, latencies, deadline, interval, phase)
                                  for (sid, bodies), phase in zip(plans, phases)))
    return sum(done), time.perf_counter() - start, latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(quick: bool = False) -> list[Figure]:
    """Throughput and per-chunk latency of ingestion into SQLite, and the snippet's transfer size."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from collector_helpers import ServeProcess, free_port

    from sessionheat.store import SessionStore
    from sessionheat.web import add_site
    from sessionheat.web.snippet import snippet_asset

    senders = 8
    chunks = 60 if quick else 250
    seconds = 6.0 if quick else 15.0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with SessionStore(db) as store:
            key = add_site(store, "bench", ["*"])
        # One site sends all of it here: lift the per-site budget, which would otherwise bind.
        server = ServeProcess(db, free_port(), Path(tmp) / "serve.log", "--site-mb-per-s", "0").start()
        try:
            n, elapsed, lat = asyncio.run(_load(server.port, key, "max", senders, chunks, seconds, None))
            rate = n * EVENTS_PER_CHUNK / elapsed
            note = f"{senders} senders, {EVENTS_PER_CHUNK} events/chunk, gzip, {n} chunks"
            figures += [
                Figure("ingest", "events/s, senders flat out", rate, "events/s",
                       f">= {TARGET_EVENTS_PER_S:,}", note),
                Figure("ingest", "chunk latency p50, flat out", _percentile(lat, 50) * 1000, "ms"),
                Figure("ingest", "chunk latency p99, flat out", _percentile(lat, 99) * 1000, "ms"),
            ]
            n, elapsed, lat = asyncio.run(_load(server.port, key, "paced", senders, chunks, seconds,
                                                TARGET_EVENTS_PER_S))
            figures += [
                Figure("ingest", "events/s, paced at the target", n * EVENTS_PER_CHUNK / elapsed,
                       "events/s", f">= {TARGET_EVENTS_PER_S:,}", f"{senders} senders, {n} chunks"),
                Figure("ingest", "chunk latency p50 at the target", _percentile(lat, 50) * 1000, "ms"),
                Figure("ingest", "chunk latency p99 at the target", _percentile(lat, 99) * 1000, "ms",
                       "< 50"),
            ]
        finally:
            server.stop()
        conn = sqlite3.connect(db)
        stored = conn.execute("SELECT COALESCE(SUM(n_events), 0) FROM chunks").fetchone()[0]
        conn.close()
        figures.append(Figure("ingest", "events stored (all acknowledged)", stored, "events"))
    asset = snippet_asset()
    figures.append(Figure("ingest", "snippet.js transfer, gzipped", len(asset.gzipped) / 1024, "KiB",
                          note=f"{len(asset.body) / 1024:.0f} KiB uncompressed; rrweb 2.2.2 record+replay"))
    return figures
