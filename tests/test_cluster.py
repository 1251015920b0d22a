"""Indexing on a Dask cluster (heatmap/index_cluster.py): a real LocalCluster of two worker
processes on loopback, each with its own Chromium, indexes the same recorded demo sessions as a
local index, and the hits must be the same rows; also when one worker process is SIGKILLed
mid-run (its sessions are redone on the other, and nothing is written twice).

The demo sessions are recorded once for the module; each test indexes its own copy of that store.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from collector_helpers import TEAM, ThreadServer
from conftest import chromium_pids
from distributed import Client, LocalCluster

from plumbing.store import SessionStore

from demo.job import plan_demo_visitors
from heatmap import IndexResult, index_sessions
from heatmap.index import ClusterError
from heatmap.index_cluster import index_on_worker
from recorder import record_journeys
from sessionheat.cli import main
from sessionheat.web import create_app

N_SESSIONS = 6


@pytest.fixture(scope="module")
def raw_db(tmp_path_factory, browser, demo_server) -> Path:
    """A store of demo visitors, recorded and not indexed."""
    path = tmp_path_factory.mktemp("cluster") / "raw.db"
    store = SessionStore(path)
    try:
        runs = record_journeys(plan_demo_visitors(demo_server.url, N_SESSIONS, seed=4), None,
                               store=store, browser=browser)
        assert not [r.error for r in runs if r.error]
    finally:
        store.close()
    return path


def copy_of(raw: Path, path: Path) -> SessionStore:
    with sqlite3.connect(raw) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return SessionStore(path)


def hit_rows(store: SessionStore) -> Counter[tuple[Any, ...]]:
    """Every hit as a row of all its columns, counted: equal Counters are the same rows, order
    aside, and a row written twice counts twice. (The hits table has no id column of its own.)"""
    pairs = [(s["id"], p["index"]) for s in store.list_sessions() for p in store.pageviews(s["id"])]
    return Counter(tuple(sorted(hit.items())) for hit in store.hits(pairs))


def indexed_rows(store: SessionStore) -> set[tuple[str, int]]:
    """(session, events its hits were made from) of every indexed session."""
    marks = store.index_marks(s["id"] for s in store.list_sessions())
    return {(session_id, n_events) for session_id, (n_events, _) in marks.items()}


@pytest.fixture(scope="module")
def local(raw_db, browser, tmp_path_factory) -> tuple[Counter[tuple[Any, ...]], set[tuple[str, int]]]:
    """The hits (and indexed rows) of a local index of those sessions."""
    store = copy_of(raw_db, tmp_path_factory.mktemp("local") / "local.db")
    try:
        results = index_sessions(store, browser=browser)
        assert len(results) == N_SESSIONS and not [r for r in results if r.problem]
        return hit_rows(store), indexed_rows(store)
    finally:
        store.close()


@pytest.fixture
def cluster() -> Any:
    """Two single-thread worker processes and a scheduler, all on 127.0.0.1, closed cleanly."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as client:
        yield cluster, client


def test_a_cluster_index_writes_the_rows_a_local_index_does(raw_db, local, cluster, tmp_path):
    local_hits, local_indexed = local
    lc, client = cluster
    store = copy_of(raw_db, tmp_path / "cluster.db")
    heard: list[IndexResult] = []
    try:
        results = index_sessions(store, cluster=lc.scheduler_address, progress=heard.append)
        assert [r.session_id for r in results] == store.sessions_to_index(rebuild=True)
        assert sorted(r.session_id for r in heard) == sorted(r.session_id for r in results)
        assert not [r for r in results if r.problem]
        assert sum(local_hits.values()) > 0
        assert hit_rows(store) == local_hits
        assert indexed_rows(store) == local_indexed
        # Both workers took sessions, each on the replay page its plugin holds.
        pages = client.run(lambda dask_worker: len(dask_worker.plugins["sessionheat-replay"]._held["pages"]))
        assert list(pages.values()) == [1, 1]
        assert index_sessions(store, cluster=lc.scheduler_address) == []  # nothing left to index
        # The CLI's skin on it, rebuilding: every session again, its rows replaced, not added.
        out = CliRunner().invoke(main, ["index", "--db", str(store.path), "--rebuild", "--json",
                                        "--cluster", lc.scheduler_address])
        assert out.exit_code == 0, out.output
        assert sorted(r["session_id"] for r in json.loads(out.stdout)) == sorted(s for s, *_ in local_indexed)
        assert hit_rows(store) == local_hits
    finally:
        store.close()
    # A worker that cannot see a SQLite store says so, and leaves no empty database behind.
    elsewhere = tmp_path / "elsewhere.db"
    with pytest.raises(ClusterError, match="finds no store"):
        client.submit(index_on_worker, str(elsewhere), "any", pure=False).result()
    assert not elsewhere.exists()


def test_the_uis_background_indexer_indexes_on_the_cluster(raw_db, local, cluster, tmp_path):
    """`serve --cluster` (create_app's `cluster`): the explorer's Index button indexes on the
    cluster's workers, and the job's progress counts every session."""
    local_hits, _ = local
    lc, client = cluster
    store = copy_of(raw_db, tmp_path / "ui.db")
    before = chromium_pids()
    try:
        with ThreadServer(create_app(store, cluster=lc.scheduler_address)) as server, \
                httpx.Client(headers=TEAM, base_url=server.url, timeout=30) as http:
            started = http.post("/heatmaps/index", data={"next": "/heatmaps"},
                                headers={"Sec-Fetch-Site": "same-origin"})
            assert started.status_code == 303
            deadline = time.monotonic() + 240  # a bound, not a speed check
            while (status := http.get("/heatmaps/jobs/index").json())["state"] in ("queued", "running"):
                assert time.monotonic() < deadline, status
                time.sleep(0.2)
            # The browsers were the workers' own: the server started none (it would keep one
            # open for a minute after a job).
            workers_own = set().union(*client.run(chromium_pids).values())
            assert workers_own and not chromium_pids() - before - workers_own
        assert status["state"] == "done" and status["done"] == status["total"] == N_SESSIONS, status
        assert hit_rows(store) == local_hits
        pages = client.run(lambda dask_worker: sorted(dask_worker.plugins["sessionheat-replay"]._held["pages"]))
        assert all(store.location in held for held in pages.values())  # the workers replayed them
    finally:
        store.close()


def test_a_worker_killed_mid_run_has_its_sessions_redone_elsewhere_once(raw_db, local, cluster, tmp_path):
    """SIGKILL (as the OOM killer would) the worker process that holds sessions in flight, as soon
    as the first session is done: the scheduler hands its sessions to the other worker (and to the
    one its nanny starts again), and the store ends with each hit once."""
    local_hits, local_indexed = local
    lc, client = cluster
    store = copy_of(raw_db, tmp_path / "cluster.db")
    pids = client.run(os.getpid)
    killed: dict[str, list[str]] = {}

    def kill_a_busy_worker(result: IndexResult) -> None:
        if killed:
            return
        busy = {worker: keys for worker, keys in client.processing().items() if keys}
        assert busy, "every session finished before a worker could be killed"
        worker, keys = sorted(busy.items())[0]
        killed[worker] = [str(k) for k in keys]
        os.kill(pids[worker], signal.SIGKILL)

    try:
        results = index_sessions(store, cluster=lc.scheduler_address, progress=kill_a_busy_worker)
        assert killed and list(killed.values())[0]
        assert sorted(r.session_id for r in results) == sorted(s for s, *_ in local_indexed)
        assert not [r for r in results if r.problem]
        assert hit_rows(store) == local_hits
        assert indexed_rows(store) == local_indexed
    finally:
        store.close()
