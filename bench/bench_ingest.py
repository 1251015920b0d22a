"""Ingestion over HTTP on loopback: the collector in its own process, several senders.

The same load runs twice, against the collector with its protections on (the page addresses
checked against the site's origins, session caps, inputs masked on the server, the Host allowlist)
and off, and the ratios say what they cost. Both apps come from `build_app(db, Protections(...))`:
a protection added later is one more flag there.

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
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bench import Figure

ROOT = Path(__file__).resolve().parent.parent
SITE_ORIGIN = "http://bench.test"  # a real origin list (not '*'), so the href checks do their work

TARGET_EVENTS_PER_S = 50_000
EVENTS_PER_CHUNK = 250


def chunk_events(rng: random.Random, t0: int, seq: int) -> list[dict]:
    """A chunk as a busy page sends it: moves, scrolls, small mutations, an input, a click."""
    events: list[dict] = []
    t = t0 + seq * 2000
    if seq == 0:
        events += [{"type": 4, "timestamp": t, "data": {"href": SITE_ORIGIN + "/p", "width": 1280,
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
            # As typed: a page with data-mask-inputs="false", so masking has work to do.
            data = {"source": 5, "id": rng.randint(2, 200), "text": "hello world!"[:rng.randint(1, 12)],
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


@dataclass(frozen=True)
class Protections:
    """Which of the collector's protections an app has on (one flag per protection)."""

    href_checks: bool = True  # Meta / route hrefs must be on the site's origins
    session_caps: bool = True  # Limits.max_session_events / max_session_bytes
    masking: bool = True  # inputs masked by the site's policy before storing
    host_check: bool = True  # the Host allowlist every listener has (DNS rebinding); the login gate
    # wraps only non-public routes, so the chunk endpoint never passes through it


ON = Protections()
OFF = Protections(**{f.name: False for f in fields(Protections)})


def build_app(db: str, protections: Protections) -> Any:
    """The app `sessionheat serve` runs, with the protections `protections` leaves off removed.

    One site sends all of the load here: the per-site byte budget, which would otherwise bind, is
    lifted in both."""
    from sessionheat.web import AccessPolicy, Limits, create_app

    caps = {} if protections.session_caps else {"max_session_events": 0, "max_session_bytes": 0}
    access = AccessPolicy() if protections.host_check else AccessPolicy(allowed_hosts=None)
    app = create_app(db, limits=Limits(site_bytes_per_s=0, **caps), own_process=True, access=access)
    app.state.collector.href_checks = protections.href_checks
    app.state.collector.masking = protections.masking
    return app


class AppProcess:
    """`build_app` served by uvicorn in a child process (`python -m bench.bench_ingest`), as
    `sessionheat serve` would be: the senders must not share its interpreter."""

    def __init__(self, db: Path, protections: Protections, log: Path):
        sys.path.insert(0, str(ROOT / "tests"))
        from collector_helpers import free_port, wait_until_serving

        self.port = free_port()
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_ingest", str(db), str(self.port),
             json.dumps(asdict(protections))],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
        if not wait_until_serving(f"http://127.0.0.1:{self.port}", self.proc, timeout=30):
            self.stop()
            raise RuntimeError(f"the bench app did not start; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.log.close()


def _measure(tmp: Path, name: str, protections: Protections, senders: int, chunks: int,
             seconds: float) -> dict[str, float]:
    """Flat out, then paced at the target: events/s and per-chunk latency (ms) of one app."""
    from plumbing.store import SessionStore

    from sessionheat.web import add_site

    db = tmp / f"{name}.db"
    with SessionStore(db) as store:
        key = add_site(store, "bench", [SITE_ORIGIN])
    server = AppProcess(db, protections, tmp / f"{name}.log")
    try:
        n, elapsed, lat = asyncio.run(_load(server.port, key, "max", senders, chunks, seconds, None))
        paced_n, paced_elapsed, paced = asyncio.run(_load(server.port, key, "paced", senders, chunks,
                                                          seconds, TARGET_EVENTS_PER_S))
    finally:
        server.stop()
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT COALESCE(SUM(n_events), 0) FROM chunks").fetchone()[0]
    conn.close()
    return {"rate": n * EVENTS_PER_CHUNK / elapsed, "p50": _percentile(lat, 50) * 1000,
            "p99": _percentile(lat, 99) * 1000, "chunks": n,
            "paced_rate": paced_n * EVENTS_PER_CHUNK / paced_elapsed,
            "paced_p50": _percentile(paced, 50) * 1000, "paced_p99": _percentile(paced, 99) * 1000,
            "stored": stored}


def _masking_cost(chunks: int) -> float:
    """Microseconds `mask_chunk` takes per bench chunk (250 events, inputs as typed)."""
    from sessionheat.web.masking import mask_chunk

    rng = random.Random(2)
    t0 = int(time.time() * 1000)
    bodies = [json.dumps(chunk_events(rng, t0, seq)) for seq in range(chunks)]
    events = [json.loads(body) for body in bodies]
    start = time.perf_counter()
    for chunk in events:
        mask_chunk(chunk, record_inputs=False)
    return (time.perf_counter() - start) / chunks * 1e6


def run(quick: bool = False) -> list[Figure]:
    """Ingestion with the collector's protections on and off, their ratio, and the snippet's size."""
    from sessionheat.web.snippet import snippet_asset

    senders = 8
    chunks = 60 if quick else 250
    seconds = 6.0 if quick else 15.0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: _measure(Path(tmp), name, protections, senders, chunks, seconds)
                   for name, protections in (("off", OFF), ("on", ON))}
    note = f"{senders} senders, {EVENTS_PER_CHUNK} events/chunk, gzip"
    for name, r in results.items():
        label = f"protections {name}"
        figures += [
            Figure("ingest", f"events/s, senders flat out ({label})", r["rate"], "events/s",
                   f">= {TARGET_EVENTS_PER_S:,}", f"{note}, {r['chunks']:.0f} chunks"),
            Figure("ingest", f"chunk latency p50, flat out ({label})", r["p50"], "ms"),
            Figure("ingest", f"chunk latency p99, flat out ({label})", r["p99"], "ms"),
            Figure("ingest", f"events/s, paced at the target ({label})", r["paced_rate"], "events/s",
                   f">= {TARGET_EVENTS_PER_S:,}"),
            Figure("ingest", f"chunk latency p99 at the target ({label})", r["paced_p99"], "ms", "< 50"),
            Figure("ingest", f"events stored, all acknowledged ({label})", r["stored"], "events"),
        ]
    on, off = results["on"], results["off"]
    figures += [
        Figure("ingest", "events/s flat out, on / off", on["rate"] / off["rate"], "x", ">= 0.9",
               "href checks, session caps, server-side masking, Host allowlist"),
        Figure("ingest", "chunk latency p99 flat out, on / off", on["p99"] / off["p99"], "x", "<= 1.1"),
        Figure("ingest", "chunk latency p99 at the target, on / off", on["paced_p99"] / off["paced_p99"],
               "x", "<= 1.1"),
        Figure("ingest", "masking, per chunk", _masking_cost(40 if quick else 200), "us",
               note=f"mask_chunk on {EVENTS_PER_CHUNK} events, inputs as typed"),
    ]
    asset = snippet_asset()
    figures.append(Figure("ingest", "snippet.js transfer, gzipped", len(asset.gzipped) / 1024, "KiB",
                          note=f"{len(asset.body) / 1024:.0f} KiB uncompressed; rrweb 2.2.2 record+replay"))
    return figures


if __name__ == "__main__":  # the app process AppProcess starts: DB PORT PROTECTIONS_JSON
    import uvicorn

    db_arg, port_arg, flags = sys.argv[1:4]
    uvicorn.run(build_app(db_arg, Protections(**json.loads(flags))), host="127.0.0.1",
                port=int(port_arg), log_level="warning", access_log=False)
