"""Group commit: many senders' chunks share one durable SQLite transaction.

Each commit with `synchronous=FULL` costs an fsync (milliseconds on this machine), so one commit
per chunk caps ingestion at a few hundred chunks a second. A single writer thread takes every chunk
waiting in its queue, commits them together, and only then answers each request: no chunk is
acknowledged before its transaction is on disk, and the event loop never waits on the disk.

Checkpoints (copying the WAL back into the database, with fsyncs of their own) would otherwise run
inside whichever commit crosses SQLite's threshold and stall every request queued behind it; a
second thread does them on its own connection instead, which never blocks the writer, and picks
its moments: when writes pause, or every `checkpoint_every` seconds under steady load (their disk
flushes still slow the commits they overlap).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from typing import Any

from plumbing.store import ChunkOutcome, ChunkWrite, SessionStore

_STOP = object()


class ChunkWriter:
    """The one thread that writes chunks to `store`; `await write(chunk)` returns once durable.

    Chunks must have passed `sessionheat.web.payload` checks already (the store skips them).
    """

    def __init__(self, store: SessionStore, *, max_batch: int = 256, checkpoint_every: float = 30.0):
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sessionheat-writer", daemon=True)
        self.commits = 0  # transactions committed, for tests and benchmarks
        self._stopped = threading.Event()
        self._last_commit = 0.0  # time.monotonic() of the last commit, 0 when checkpointed since
        self._checkpoint_every = checkpoint_every
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, daemon=True,
                                              name="sessionheat-checkpoint")
        store.set_wal_autocheckpoint(0)
        self._thread.start()
        self._checkpointer.start()

    async def write(self, chunk: ChunkWrite) -> ChunkOutcome:
        """Store `chunk`; returns only after its transaction has committed (or raises why not)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ChunkOutcome] = loop.create_future()
        self._queue.put((chunk, loop, future))
        return await future

    def close(self) -> None:
        """Write what is queued, then stop the threads and give checkpoints back to SQLite."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._stopped.set()
        self._checkpointer.join()
        self.store.set_wal_autocheckpoint(1000)

    def _checkpoint_loop(self) -> None:
        if self.store.backend_name != "sqlite":  # the PostgreSQL server checkpoints on its own
            return
        conn = sqlite3.connect(str(self.store.path), timeout=30, isolation_level=None)
        last_checkpoint = time.monotonic()
        try:
            while not self._stopped.wait(0.25):
                now, last_commit = time.monotonic(), self._last_commit
                if last_commit and (now - last_commit > 0.5
                                    or now - last_checkpoint > self._checkpoint_every):
                    self._last_commit = 0.0
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for the writer
                    last_checkpoint = now
        except sqlite3.Error:  # the file went away (tests delete it): nothing left to checkpoint
            pass
        finally:
            conn.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            for (_, loop, future), result in zip(batch, self._commit([c for c, _, _ in batch])):
                try:
                    loop.call_soon_threadsafe(_settle, future, result)
                except RuntimeError:  # that request's event loop is gone (server shutting down)
                    pass

    def _commit(self, chunks: list[ChunkWrite]) -> list[ChunkOutcome | Exception]:
        try:
            outcomes: list[ChunkOutcome | Exception] = list(self.store.append_chunks(chunks, checked=True))
        except Exception as exc:  # a refusal or a disk error: the request(s) hear of it
            if len(chunks) == 1:
                return [exc]
            # One bad chunk must not sink the others that shared its transaction: write each alone.
            return [result for chunk in chunks for result in self._commit([chunk])]
        self.commits += 1
        self._last_commit = time.monotonic()
        return outcomes


def _settle(future: asyncio.Future[ChunkOutcome], result: ChunkOutcome | Exception) -> None:
    if future.done():  # the request was cancelled (the client went away)
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)

