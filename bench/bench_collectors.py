"""Ingestion through three collector processes into one store, on each backend (issue 14).

Three `sessionheat serve --role collector` processes (the real command, its per-site byte budget
lifted: one site sends all of the load) write to one SQLite file, then to one PostgreSQL database on
a server started for the run (tests/postgres_server.py: initdb into a temp folder, loopback, fsync
on). Senders are bench_ingest's: one tab each, its own session and keep-alive connection, numbered
gzipped chunks of 250 realistic events, the next sent once the 202 came (given only after commit);
the tabs are spread over the three collectors. Flat out (throughput), then paced at the target rate
(latency at that load). Also: events stored against events acknowledged (1.0: nothing acknowledged
was lost, nothing stored twice), and the CPU the collectors (and the PostgreSQL server) spent per
1,000 events, from /proc. The load generator runs on the same 2 cores and its CPU is shown too.

The server starter lives in tests/ (tests/postgres_server.py), standard library only: one
implementation for the tests and the benchmarks. bench/ already puts tests/ on sys.path for
collector_helpers (bench_ingest), and the import-linter contracts cover only the product packages.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import Figure
from bench.bench_ingest import (
    EVENTS_PER_CHUNK,
    SITE_ORIGIN,
    TARGET_EVENTS_PER_S,
    _percentile,
    _sender,
    chunk_events,
)

ROOT = Path(__file__).resolve().parent.parent
N_COLLECTORS = 3
TARGET_P99_MS = 50
TICKS = os.sysconf("SC_CLK_TCK")


def _tests_on_path() -> None:
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))


def cpu_seconds(pids: list[int], *, with_children: bool = False) -> float:
    """User + system CPU of `pids` so far (and of their children: a PostgreSQL server's backends)."""
    total = 0.0
    wanted = set(pids)
    if with_children:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2:].split()[1]) in pids:
                    wanted.add(int(entry.name))
    for pid in wanted:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if pid in pids:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: children that have exited
    return total / TICKS


async def _load(ports: list[int], key: str, tag: str, senders: int, chunks: int, seconds: float,
                rate: float | None) -> tuple[int, float, list[float], float]:
    """bench_ingest's load, its tabs spread round robin over `ports`: (chunks acknowledged,
    seconds, latencies, CPU seconds this process spent sending, the bodies made beforehand)."""
    rng = random.Random(1)
    t0 = int(time.time() * 1000)
    plans = []
    for n in range(senders):
        bodies = [gzip.compress(json.dumps({"events": chunk_events(rng, t0, seq)}).encode(), 6)
                  for seq in range(chunks)]
        plans.append((ports[n % len(ports)], f"bench-{tag}-{n:03d}-xx", bodies))
    latencies: list[float] = []
    interval = None if rate is None else senders * EVENTS_PER_CHUNK / rate
    phases = [0.0 if interval is None else rng.uniform(0, interval) for _ in plans]
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    done = await asyncio.gather(*(_sender(port, key, sid, bodies, latencies, deadline, interval, phase)
                                  for (port, sid, bodies), phase in zip(plans, phases)))
    return sum(done), time.perf_counter() - start, latencies, time.process_time() - cpu


def _start_collectors(location: str, tmp: Path, name: str) -> list[Any]:
    _tests_on_path()
    from collector_helpers import ServeProcess, free_port

    ports: set[int] = set()
    while len(ports) < N_COLLECTORS:
        ports.add(free_port())
    collectors = [ServeProcess(location, port, tmp / f"{name}-collector-{i}.log",
                               "--role", "collector", "--site-mb-per-s", "0", team=False)
                  for i, port in enumerate(sorted(ports))]
    with ThreadPoolExecutor(N_COLLECTORS) as pool:
        errors = [e for e in pool.map(_try_start, collectors) if e is not None]
    if errors:
        for c in collectors:
            if c.proc is not None:
                c.stop()
        raise errors[0]
    return collectors


def _try_start(collector: Any) -> Exception | None:
    try:
        collector.start()
    except Exception as exc:
        return exc
    return None


def measure(location: str, tmp: Path, name: str, senders: int, chunks: int, seconds: float,
            server_pids: list[int]) -> dict[str, float]:
    """Flat out, then paced at the target, through three collectors into the store at `location`."""
    from plumbing.store import SessionStore

    from sessionheat.web import add_site

    with SessionStore(location) as store:
        key = add_site(store, "bench", [SITE_ORIGIN])
    collectors = _start_collectors(location, tmp, name)
    pids = [c.proc.pid for c in collectors]
    ports = [c.port for c in collectors]
    result: dict[str, float] = {}
    try:
        for run_name, rate in (("max", None), ("paced", float(TARGET_EVENTS_PER_S))):
            collector_cpu = cpu_seconds(pids)
            server_cpu = cpu_seconds(server_pids, with_children=True) if server_pids else 0.0
            n, elapsed, lat, own_cpu = asyncio.run(_load(ports, key, run_name, senders, chunks, seconds, rate))
            events = n * EVENTS_PER_CHUNK
            result.update({
                f"{run_name}_events": events, f"{run_name}_rate": events / elapsed,
                f"{run_name}_p50": _percentile(lat, 50) * 1000, f"{run_name}_p99": _percentile(lat, 99) * 1000,
                f"{run_name}_collector_cpu_per_1k": (cpu_seconds(pids) - collector_cpu) / events * 1000 * 1000,
                f"{run_name}_server_cpu_per_1k": ((cpu_seconds(server_pids, with_children=True) - server_cpu)
                                                  / events * 1000 * 1000) if server_pids else 0.0,
                f"{run_name}_sender_cpu_per_1k": own_cpu / events * 1000 * 1000,
            })
    finally:
        for c in collectors:
            c.stop()
    with SessionStore(location) as store:
        stored = store.storage_stats()["events"]
    result["stored_over_acked"] = stored / (result["max_events"] + result["paced_events"])
    return result


def _figures(backend: str, r: dict[str, float], note: str) -> list[Figure]:
    area = f"collectors ({backend})"
    return [
        Figure(area, "events/s, senders flat out", r["max_rate"], "events/s", f">= {TARGET_EVENTS_PER_S:,}", note),
        Figure(area, "ack latency p50, flat out", r["max_p50"], "ms"),
        Figure(area, "ack latency p99, flat out", r["max_p99"], "ms"),
        Figure(area, "events/s, paced at the target", r["paced_rate"], "events/s", f">= {TARGET_EVENTS_PER_S:,}"),
        Figure(area, "ack latency p50 at the target", r["paced_p50"], "ms"),
        Figure(area, "ack latency p99 at the target", r["paced_p99"], "ms", f"< {TARGET_P99_MS}"),
        Figure(area, "events stored / acknowledged", r["stored_over_acked"], "x", "= 1"),
        Figure(area, "collector CPU per 1k events, flat out", r["max_collector_cpu_per_1k"], "ms",
               note="the three collectors together"),
        *([Figure(area, "PostgreSQL CPU per 1k events, flat out", r["max_server_cpu_per_1k"], "ms",
                  note="postmaster and its backends")] if r["max_server_cpu_per_1k"] else []),
        Figure(area, "load generator CPU per 1k events, flat out", r["max_sender_cpu_per_1k"], "ms",
               note="the senders share the 2 cores"),
    ]


def run(quick: bool = False) -> list[Figure]:
    senders = 12
    chunks = 60 if quick else 250
    seconds = 6.0 if quick else 15.0
    note = f"{N_COLLECTORS} collectors, {senders} senders, {EVENTS_PER_CHUNK} events/chunk, gzip"
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sqlite = measure(str(tmp / "collectors.db"), tmp, "sqlite", senders, chunks, seconds, [])
        figures += _figures("sqlite", sqlite, note + ", one WAL file")
        _tests_on_path()
        from postgres_server import PostgresServer

        with PostgresServer() as server:
            url = server.create_database("bench_collectors")
            pg = measure(url, tmp, "postgresql", senders, chunks, seconds, [server.pid])
            figures += _figures("postgresql", pg, note + ", PostgreSQL " + server.version())
    return figures
