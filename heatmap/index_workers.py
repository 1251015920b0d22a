"""Where sessions are indexed: in this process, in local worker processes (`--workers N`), or on
a Dask cluster (`--cluster ADDRESS`, heatmap/index_cluster.py, imported only then). Each worker,
wherever it runs, holds one Chromium and replays all its sessions on one reused page; what it does
with each session is `heatmap.index.index_session`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any

from plumbing.store import SessionStore

from heatmap.index import ClusterError, IndexResult, index_session, replay_page


def index_sessions(store: SessionStore, *, rebuild: bool = False, workers: int | None = None,
                   browser: Any = None, progress: Callable[[IndexResult], None] | None = None,
                   cluster: str | None = None) -> list[IndexResult]:
    """Index every session not yet indexed (or all, with `rebuild`), `workers` at a time, each
    worker a process with its own Chromium (one per core by default; `browser` means one worker,
    in this process, on that browser). Each worker replays all its sessions on one reused page.
    `cluster` (a Dask scheduler's address, tcp://HOST:8786) indexes on that cluster's workers
    instead: see `heatmap.index_cluster`, which needs the `cluster` extra."""
    if cluster is not None:
        try:
            from heatmap.index_cluster import index_on_cluster
        except ModuleNotFoundError as exc:
            if exc.name not in ("dask", "distributed"):
                raise
            raise ClusterError(f"indexing on a cluster needs Dask distributed ({exc}): "
                               "pip install 'sessionheat[cluster]'") from None
        return index_on_cluster(store, cluster, rebuild=rebuild, progress=progress)
    todo = store.sessions_to_index(rebuild=rebuild)
    workers = 1 if browser is not None else max(1, min(workers or os.cpu_count() or 1, len(todo)))
    results: list[IndexResult] = []
    if workers == 1:
        from plumbing.browser import chromium

        with ExitStack() as stack:
            if browser is None:
                browser = stack.enter_context(chromium())
            page = stack.enter_context(replay_page(browser, store))
            for session_id in todo:
                results.append(index_session(store, session_id, page=page))
                if progress:
                    progress(results[-1])
        return results
    context = multiprocessing.get_context("spawn")  # Playwright's threads do not survive fork
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(store.location,)) as pool:
        for result in pool.map(_index_in_worker, todo):
            results.append(result)
            if progress:
                progress(result)
    return results


_worker: dict[str, Any] = {}


def _start_worker(location: str) -> None:
    from playwright.sync_api import sync_playwright

    from plumbing.browser import launch_chromium

    playwright = sync_playwright().start()
    browser = launch_chromium(playwright)
    store = SessionStore(location)
    _worker.update(store=store, browser=browser, page=replay_page(browser, store))


def _index_in_worker(session_id: str) -> IndexResult:
    return index_session(_worker["store"], session_id, page=_worker["page"])
