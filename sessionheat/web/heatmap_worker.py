"""The explorer's background worker: long work (indexing new sessions, first renders of maps) runs
here, off the server's event loop, one job at a time, with a status the page can poll.

Both kinds of job replay sessions in a real Chromium. The worker is one thread that owns its own
Playwright and Chromium (Playwright objects belong to the thread that made them), started on the
first job and let go after a spell of idleness, so a server nobody looks at holds no browser.
A job submitted while the same job is queued or running joins it instead of running twice, and
a submitter can bound how many jobs may wait (`QueueFull` beyond), so requests cannot pile work up.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

IDLE_SECONDS = 60.0  # close Chromium after this long without a job
KEEP_STATUSES = 200  # finished jobs remembered, so a page polling late still hears how it ended

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Work = Callable[[Any, Progress], None]  # (browser, or None for a job that needs none; progress)


class QueueFull(Exception):
    """Too many jobs are waiting already: ask again once some have run."""


@dataclass
class JobStatus:
    """What a page polls: where a job is, and how it ended."""

    job_id: str
    title: str
    state: str = "queued"  # queued, running, done, failed
    stage: str = "waiting for the worker"
    done: int = 0
    total: int = 0
    error: str | None = None
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def as_json(self, ahead: int = 0) -> dict[str, Any]:
        end = self.finished_at or time.time()
        return {"job": self.job_id, "title": self.title, "state": self.state, "stage": self.stage,
                "done": self.done, "total": self.total, "error": self.error, "ahead": ahead,
                "seconds": round(end - (self.started_at or end), 1)}


class HeatmapWorker:
    """One background thread running submitted jobs in order, with a Chromium of its own."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS,
                 launch: Callable[[], Any] | None = None):
        self.idle_seconds = idle_seconds
        self._launch = launch  # a context manager factory yielding a browser; default: ours
        self._queue: queue.Queue[tuple[JobStatus, Work, bool] | None] = queue.Queue()
        self._statuses: OrderedDict[str, JobStatus] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- the server's side ------------------------------------------------------------------

    def submit(self, job_id: str, title: str, work: Work, *, max_queued: int | None = None,
               browser: bool = True) -> JobStatus:
        """Queue `work` unless the same job is already queued or running; returns its status.
        With `max_queued`, raises QueueFull when that many jobs are waiting already. `browser=False`:
        the work gets None for a browser, and none is started for it (indexing on a cluster)."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("the heatmap worker has stopped")
            current = self._statuses.get(job_id)
            if current is not None and current.active:
                return current
            if max_queued is not None and sum(s.state == "queued" for s in self._statuses.values()) >= max_queued:
                raise QueueFull(f"{max_queued} jobs are waiting already")
            status = JobStatus(job_id, title)
            self._statuses[job_id] = status
            self._statuses.move_to_end(job_id)
            self._forget_old()
            self._queue.put((status, work, browser))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sessionheat-heatmaps", daemon=True)
                self._thread.start()
        return status

    def status(self, job_id: str) -> JobStatus | None:
        with self._lock:
            return self._statuses.get(job_id)

    def ahead_of(self, job_id: str) -> int:
        """How many jobs will run before this one (0 when it is running or done)."""
        with self._lock:
            queued = [s.job_id for s in self._statuses.values() if s.state == "queued"]
            running = any(s.state == "running" for s in self._statuses.values())
        if job_id not in queued:
            return 0
        return queued.index(job_id) + int(running)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the running job, drop the queued ones, close Chromium, end the thread."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].state, item[0].error = "failed", "the server stopped before this job ran"
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    # -- the worker's side ------------------------------------------------------------------

    def _forget_old(self) -> None:
        finished = [k for k, s in self._statuses.items() if not s.active]
        for job_id in finished[: max(0, len(finished) - KEEP_STATUSES)]:
            del self._statuses[job_id]

    def _browser(self, stack: ExitStack) -> Any:
        if self._launch is not None:
            return stack.enter_context(self._launch())
        from plumbing.browser import chromium

        return stack.enter_context(chromium())

    def _run(self) -> None:
        with ExitStack() as stack:
            browser = None
            while True:
                try:
                    item = self._queue.get(timeout=self.idle_seconds)
                except queue.Empty:
                    stack.close()  # idle: let Chromium go until the next job
                    browser = None
                    continue
                if item is None:
                    return
                status, work, needs_browser = item

                def progress(stage: str, done: int = 0, total: int = 0, status: JobStatus = status) -> None:
                    status.stage, status.done, status.total = stage, done, total

                status.state, status.started_at = "running", time.time()
                status.stage = "starting Chromium" if browser is None and needs_browser else "starting"
                try:
                    if needs_browser and (browser is None or not browser.is_connected()):
                        stack.close()
                        browser = self._browser(stack)
                    work(browser if needs_browser else None, progress)
                except Exception as exc:  # the page shows it; the worker goes on with the next job
                    status.error = str(exc) or type(exc).__name__
                    status.state = "failed"
                    if not isinstance(exc, ValueError):  # nothing to draw is news, not a bug
                        traceback.print_exc()
                else:
                    status.state = "done"
                finally:
                    status.finished_at = time.time()
