"""Indexing on a Dask cluster against local worker processes, on the same sessions.

The demo's visitors (40; 8 with --quick) are recorded once, then indexed again and again by:
  - local: the pool `sessionheat index --workers 2` runs (heatmap/index_workers.py), two spawned
    processes, each with its Chromium and one reused replay page;
  - Dask: a LocalCluster of two single-thread worker processes on 127.0.0.1, each with the
    ReplayWorker plugin's Chromium and replay page, through `index_on_cluster`, the call
    `sessionheat index --cluster` makes (task submission, scheduling, results, progress).
Browser start-up is EXCLUDED from both: each engine's workers are started and have indexed every
session once (untimed; this also fills the store's asset cache and warms the replay pages) before
the timed rounds. Rounds alternate between the engines, so load from elsewhere on a shared
machine falls on both alike: Dask's cost is the median of each round's pair (Dask / local - 1),
in wall time and in CPU time. CPU time is that of every process an engine runs (this process,
which holds the pool's feeder or the Dask scheduler and client; the pool's processes or the
nannies and workers; their Playwright drivers and Chromiums), and is steadier than wall time
when other work shares the machine.

Per-session cost is worker time: wall x workers / sessions. The projection for k index machines
divides their cores (one worker, one Chromium each) by it.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from plumbing.browser import chromium

from bench import Figure, timed
from demo import serve_demo
from demo.job import plan_demo_visitors
from heatmap.index_workers import _index_in_worker, _start_worker
from recorder import SessionStore, record_journeys

AREA = "index on Dask"
WORKERS = 2
PROJECTED_MACHINES = (1, 4, 16)
CORES_PER_MACHINE = 2  # as this one: one index worker (and Chromium) per core


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _record(server: Any, store: SessionStore, n: int) -> None:
    with chromium() as browser:
        runs, wall = timed(record_journeys, plan_demo_visitors(server.url, n, seed=7), None,
                           store=store, seed=7, browser=browser)
    for run in runs:
        if run.error:
            _log(f"journey failed: {run.session_id}: {run.error}")
    _log(f"recorded {len(runs)} sessions in {wall:.0f} s")


def _cpu_s(pids: set[int]) -> float:
    """CPU seconds (user + system) used so far by these processes and all their descendants."""
    import psutil

    seen: set[int] = set()
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in tree:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def _own_cpu_s() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def _measured(fn: Any, pids: set[int]) -> tuple[float, float]:
    """(wall s, CPU s of this process and of `pids`' process trees) of `fn()`."""
    cpu = _own_cpu_s() + _cpu_s(pids)
    _, wall = timed(fn)
    return wall, _own_cpu_s() + _cpu_s(pids) - cpu


def _task_ms(stream: list[dict[str, Any]]) -> float:
    """Milliseconds the tasks of a task stream spent computing, in all."""
    return 1000 * sum(s["stop"] - s["start"] for t in stream for s in t.get("startstops", ())
                      if s.get("action") == "compute")


def run(quick: bool = False) -> list[Figure]:
    n_sessions, rounds = (8, 2) if quick else (40, 9)
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as server:
        store = SessionStore(Path(tmp) / "cluster.db")
        try:
            _record(server, store, n_sessions)
            return compare(store, rounds)  # while the demo serves the sessions' images
        finally:
            store.close()


def _cluster(stack: ExitStack) -> Any:
    """A client of a LocalCluster of WORKERS single-thread worker processes on 127.0.0.1."""
    from distributed import Client, LocalCluster

    cluster = stack.enter_context(LocalCluster(n_workers=WORKERS, processes=True, threads_per_worker=1,
                                               host="127.0.0.1", dashboard_address=None))
    return stack.enter_context(Client(cluster, set_as_default=False))


def compare(store: SessionStore, rounds: int) -> list[Figure]:
    """The figures for indexing every session of `store` `rounds` times on each engine."""
    from distributed import get_task_stream

    from heatmap.index_cluster import index_on_cluster

    todo = store.sessions_to_index(rebuild=True)
    n = len(todo)
    engines = ["local", "Dask"]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}  # (wall s, CPU s) a round
    with ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(
            WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
            initargs=(store.location,)))
        clients = {"Dask": _cluster(stack)}
        hits = {"local": sum(r.n_hits for r in pool.map(_index_in_worker, todo))}  # warm-ups, untimed
        for name, client in clients.items():
            hits[name] = sum(r.n_hits for r in index_on_cluster(store, client, rebuild=True))
        if len(set(hits.values())) != 1:
            _log(f"the engines disagree: hits {hits}")
        work = {"local": (lambda: list(pool.map(_index_in_worker, todo)), set(pool._processes or {}))}
        for name, client in clients.items():  # (the nannies are threads of this process)
            work[name] = (lambda c=client: index_on_cluster(store, c, rebuild=True),
                          set(client.run(os.getpid).values()))
        for k in range(rounds):
            for name in engines:
                runs[name].append(_measured(*work[name]))
            _log(f"round {k + 1}: " + ", ".join(f"{name} {runs[name][-1][0]:.2f} s ({runs[name][-1][1]:.1f} CPU s)"
                                                 for name in engines))
        with get_task_stream(clients["Dask"]) as stream:  # one more round, untimed: the scheduler records it
            index_on_cluster(store, clients["Dask"], rebuild=True)
        in_task = _task_ms(stream.data) / n
    wall = {name: statistics.median(w for w, _ in runs[name]) for name in engines}
    cpu = {name: statistics.median(c for _, c in runs[name]) for name in engines}
    excluded = "browser start-up excluded"
    dask_cost = 1000 * wall["Dask"] * WORKERS / n
    figures = [
        Figure(AREA, f"local, {WORKERS} processes (--workers {WORKERS})", n / wall["local"], "sessions/s",
               note=f"{n} sessions in {wall['local']:.2f} s (median of {rounds}); {1000 * wall['local'] / n:.0f} ms "
                    f"of wall per session, {1000 * wall['local'] * WORKERS / n:.0f} ms of worker time, "
                    f"{1000 * cpu['local'] / n:.0f} ms CPU; {excluded}"),
        Figure(AREA, f"Dask LocalCluster, {WORKERS} single-thread workers (--cluster)", n / wall["Dask"],
               "sessions/s",
               note=f"{n} sessions in {wall['Dask']:.2f} s (median of {rounds}); {1000 * wall['Dask'] / n:.0f} ms "
                    f"of wall per session, {dask_cost:.0f} ms of worker time ({in_task:.0f} ms inside the task, "
                    f"in a round after these), {1000 * cpu['Dask'] / n:.0f} ms CPU; {excluded}"),
    ]
    for name in engines[1:]:
        for what, i in (("wall", 0), ("CPU", 1)):
            cost = statistics.median(d[i] / lo[i] - 1 for d, lo in zip(runs[name], runs["local"]))
            figures.append(Figure(
                AREA, f"{name}: cost over local processes, {what} time", 100 * cost, "%", "<= 15",
                note=f"median over {rounds} alternating rounds of ({name} / local - 1); negative: faster" + (
                     "; CPU of every process each engine runs (see the module docstring)" if i else "")))
    for k in PROJECTED_MACHINES:
        workers = k * CORES_PER_MACHINE
        figures.append(Figure(
            AREA, f"projected: {k} index machine{'s' * (k != 1)} of {CORES_PER_MACHINE} cores", 1000 * workers / dask_cost,
            "sessions/s", note=f"{workers} workers / {dask_cost:.0f} ms of worker time per session (measured "
                               "here, demo sessions); the store and the scheduler not counted"))
    return figures
