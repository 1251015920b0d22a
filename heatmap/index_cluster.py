"""`sessionheat index --cluster ADDRESS`: indexing fanned out over a Dask distributed cluster.

Each Dask worker holds one Chromium and one reused replay page for as long as it lives
(`ReplayWorker`, a worker plugin); each session is one task. A task swaps its session's hits in
one transaction (`SessionStore.replace_hits`), so a task that runs twice (a worker killed mid-run
has its tasks rescheduled on another) leaves the same rows, never two copies.

Workers open the store from its location (a path every worker can reach, or a PostgreSQL URL),
and need sessionheat and Chromium installed, as an index machine does. Dask is an optional extra
(`pip install 'sessionheat[cluster]'`): only this module imports it, and only `--cluster` imports
this module.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import Client, KilledWorker, WorkerPlugin, as_completed, get_worker

from plumbing.store import SessionStore

from heatmap.index import ClusterError, IndexResult, index_session, replay_page

if TYPE_CHECKING:
    from distributed import Worker

PLUGIN_NAME = "sessionheat-replay"
CONNECT_TIMEOUT_S = 10  # to reach the scheduler; a wrong address is refused after this long
TASK_RETRIES = 2  # a task that raised (its worker's Chromium crashed, say) runs again this often


class ReplayWorker(WorkerPlugin):
    """One Chromium and its reused replay page per Dask worker, on a thread of their own.

    Playwright's sync API belongs to the thread that started it, while a worker runs its tasks
    on the threads of its executor: so every browser call is handed to this one thread, and a
    worker's tasks take turns on it (give workers one thread each: more only wait here).
    """

    idempotent = True  # registering again (every `index --cluster` does) keeps running browsers
    name = PLUGIN_NAME

    def __init__(self) -> None:
        self._thread: ThreadPoolExecutor | None = None
        self._held: dict[str, Any] = {}  # playwright, browser; pages and stores by store location
        self._problem: str | None = None

    async def setup(self, worker: "Worker") -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sessionheat-replay")
        try:
            await asyncio.wrap_future(self._thread.submit(self._start))
        except Exception as exc:  # the tasks say it: a plugin's own failure only reaches a log
            self._problem = f"{type(exc).__name__}: {exc}"

    async def teardown(self, worker: "Worker") -> None:
        if self._thread is not None:
            await asyncio.wrap_future(self._thread.submit(self._stop))
            self._thread.shutdown(wait=False)

    def index(self, location: str, session_id: str) -> IndexResult:
        """Index one session of the store at `location`, on this worker's browser thread."""
        if self._thread is None or self._problem is not None:
            raise ClusterError(f"this Dask worker could not start Chromium: {self._problem or 'not set up'}")
        return self._thread.submit(self._index, location, session_id).result()

    # -- on the browser thread -----------------------------------------------------------------

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        from plumbing.browser import launch_chromium

        playwright = self._held.get("playwright") or sync_playwright().start()
        self._held.update(playwright=playwright, browser=launch_chromium(playwright), pages={},
                          stores=self._held.get("stores", {}))

    def _index(self, location: str, session_id: str) -> IndexResult:
        if not self._held["browser"].is_connected():  # Chromium died: a new one, new pages
            self._close_browser()
            self._start()
        stores, pages = self._held["stores"], self._held["pages"]
        if location not in stores:
            if "://" not in location and not Path(location).is_file():  # opening would create it
                raise ClusterError(f"the Dask worker on {socket.gethostname()} finds no store at {location}: "
                                   "a SQLite store serves workers on its own machine (or a disk they share); "
                                   "give the others a PostgreSQL store (--db postgresql://...)")
            stores[location] = SessionStore(location)
        if location not in pages:
            pages[location] = replay_page(self._held["browser"], stores[location])
        return index_session(stores[location], session_id, page=pages[location])

    def _close_browser(self) -> None:
        for page in self._held.get("pages", {}).values():
            page.close()
        browser = self._held.get("browser")
        if browser is not None and browser.is_connected():
            browser.close()

    def _stop(self) -> None:
        self._close_browser()
        for store in self._held.get("stores", {}).values():
            store.close()
        if self._held.get("playwright") is not None:
            self._held["playwright"].stop()
        self._held.clear()


def index_on_worker(location: str, session_id: str) -> IndexResult:
    """The task: index one session on the worker this runs on, with its `ReplayWorker`."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, ReplayWorker):
        raise ClusterError("this Dask worker has no sessionheat replay plugin")
    return plugin.index(location, session_id)


def connect(address: str) -> Client:
    """A client of the scheduler at `address` (tcp://HOST:8786), or ClusterError saying why not."""
    from distributed.comm import parse_address
    from distributed.comm.registry import get_backend

    try:
        scheme, where = parse_address(address)
        get_backend(scheme)  # an unknown scheme, refused before a client exists to hang on it
        if not where.strip():
            raise ValueError("no host given")
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach a Dask scheduler at {address}: {exc}") from None


def index_on_cluster(store: SessionStore, cluster: str | Client, *, rebuild: bool = False,
                     progress: Callable[[IndexResult], None] | None = None) -> list[IndexResult]:
    """Index every session not yet indexed (or all, with `rebuild`) on the Dask cluster whose
    scheduler is at `cluster` (or through a connected `distributed.Client`), one task a session.
    Results come back in the store's order; `progress` hears each one as it finishes."""
    todo = store.sessions_to_index(rebuild=rebuild)
    if not todo:
        return []
    client = cluster if isinstance(cluster, Client) else connect(cluster)
    try:
        client.register_plugin(ReplayWorker(), name=PLUGIN_NAME)
        run = uuid.uuid4().hex[:8]
        futures = client.map(index_on_worker, [store.location] * len(todo), todo, pure=False,
                             key=[f"sessionheat-index-{run}-{k}" for k in range(len(todo))],
                             retries=TASK_RETRIES)
        by_session: dict[str, IndexResult] = {}
        try:
            for future in as_completed(futures, loop=client.loop):
                result = future.result()
                by_session[result.session_id] = result
                if progress:
                    progress(result)
        except KilledWorker as exc:  # a session whose task took down worker after worker
            client.cancel(futures)
            raise ClusterError(f"indexing stopped: {exc}") from None
        except BaseException:
            client.cancel(futures)  # a client the caller keeps must not go on indexing
            raise
        return [by_session[session_id] for session_id in todo]
    finally:
        if not isinstance(cluster, Client):
            client.close()
