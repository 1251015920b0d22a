"""Group commit: many senders' chunks share one durable SQLite transaction.

Each commit with `synchronous=FULL` costs an fsync (milliseconds on this machine), so one commit
per chunk caps ingestion at a few hundred chunks a second. A single writer thread takes every chunk
waiting in its queue, commits them together, and only then answers each request: no chunk is
acknowledged before its transaction is on disk, and the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from sessionheat.store import ChunkOutcome, ChunkWrite, SessionStore

_STOP = object()


class ChunkWriter:
    """The one thread that writes chunks to `store`; `await write(chunk)` returns once durable."""

    def __init__(self, store: SessionStore, *, max_batch: int = 256):
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sessionheat-writer", daemon=True)
        self._thread.start()
        self.commits = 0  # transactions committed, for tests and benchmarks

    async def write(self, chunk: ChunkWrite) -> ChunkOutcome:
        """Store `chunk`; returns only after its transaction has committed (or raises why not)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ChunkOutcome] = loop.create_future()
        self._queue.put((chunk, loop, future))
        return await future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

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
            outcomes: list[ChunkOutcome | Exception] = list(self.store.append_chunks(chunks))
        except Exception as exc:  # a refusal or a disk error: the request(s) hear of it
            if len(chunks) == 1:
                return [exc]
            # One bad chunk must not sink the others that shared its transaction: write each alone.
            return [result for chunk in chunks for result in self._commit([chunk])]
        self.commits += 1
        return outcomes


def _settle(future: asyncio.Future[ChunkOutcome], result: ChunkOutcome | Exception) -> None:
    if future.done():  # the request was cancelled (the client went away)
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)

