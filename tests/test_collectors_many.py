"""Many collectors at once (issue 14): three `sessionheat serve --role collector` processes write to
one store, on each backend. A client streams the chunks of several sessions the way the snippet
does (one chunk in flight per session, the same number and body on every retry), some chunks go to
two collectors at once, and one collector is SIGKILLed mid-stream; its senders retry what it never
acknowledged on another collector, as a load balancer in front of them would route them.

At the end every acknowledged chunk is in the store exactly once, each session reads back complete,
and the sessions' counters were folded once per chunk (a duplicate folded twice would show there).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from collector_helpers import T_NOW, ServeProcess, click, free_port, meta, snapshot

from plumbing.store import SessionStore

from sessionheat.web import add_site

ORIGIN = "https://shop.example"
N_COLLECTORS = 3
N_SESSIONS = 6
N_CHUNKS = 12  # per session
EVENTS_PER_CHUNK = 20
TWICE_EVERY = 3  # every third chunk is sent to two collectors at once
KILL_AFTER = N_SESSIONS * N_CHUNKS // 3  # acknowledgements before collector 0 is killed
DEADLINE_S = 180.0  # the whole stream; a sender that has not finished by then fails the test
RETRY_BASE_S = 0.05  # the snippet's back-off (1 s, doubling, jittered), scaled down for a test


def session_chunks(session_index: int) -> list[list[dict[str, Any]]]:
    """A session's chunks: a page's first events, then clicks, timestamps rising throughout."""
    t = T_NOW - 600_000 + session_index * 10_000
    chunks = [[meta(t, f"{ORIGIN}/p/{session_index}"), snapshot(t + 1)]
              + [click(t + 2 + i, node=1) for i in range(EVENTS_PER_CHUNK - 2)]]
    for c in range(1, N_CHUNKS):
        base = t + 100 * c
        chunks.append([click(base + i, node=1) for i in range(EVENTS_PER_CHUNK)])
    return chunks


def chunk_body(events: list[dict[str, Any]]) -> str:
    """What the snippet posts: the events and its meta, as text/plain (no preflight)."""
    return json.dumps({"events": events, "meta": {"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Test",
                                                  "viewport": [1280, 800], "version": "test"}})


@dataclass
class Ledger:
    """What the client heard back, shared by the sender threads."""

    acked: set[tuple[str, int]] = field(default_factory=set)
    stored_answers: dict[tuple[str, int], int] = field(default_factory=dict)  # "stored": true, counted
    twice: list[tuple[int, int]] = field(default_factory=list)  # statuses of the doubly sent chunks
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    progress: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.progress = threading.Condition(self.lock)


def post(client: httpx.Client, collector: ServeProcess, key: str, session_id: str, seq: int,
         body: str) -> tuple[int, dict[str, Any]]:
    """One POST as the snippet makes it; status 0 when no answer came (refused, reset, timed out)."""
    try:
        r = client.post(f"{collector.url}/api/v1/sessions/{session_id}/chunks/{seq}", params={"site": key},
                        content=body, headers={"Content-Type": "text/plain", "Origin": ORIGIN})
    except httpx.TransportError:
        return 0, {}
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    return r.status_code, answer


def send_session(collectors: list[ServeProcess], key: str, index: int, session_id: str,
                 chunks: list[list[dict[str, Any]]], ledger: Ledger, deadline: float) -> None:
    """One tab: chunks in order, one in flight; 2xx settles it, 0/408/429/5xx retries it with the
    same number and body on the next collector, any other status is a failure of the test."""
    home = index % len(collectors)
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(1) as second:
        for seq, events in enumerate(chunks):
            body = chunk_body(events)
            target, tries = home, 0
            while True:
                assert time.monotonic() < deadline, f"{session_id} chunk {seq}: not acknowledged in time"
                other = None
                if seq % TWICE_EVERY == 1 and tries == 0:  # also to the next collector, at the same time
                    other = second.submit(post, client, collectors[(target + 1) % len(collectors)], key,
                                          session_id, seq, body)
                status, answer = post(client, collectors[target], key, session_id, seq, body)
                answers = [(status, answer)]
                if other is not None:
                    answers.append(other.result())
                    with ledger.lock:
                        ledger.twice.append((answers[0][0], answers[1][0]))
                ok = [a for s, a in answers if 200 <= s < 300]
                for s, a in answers:
                    assert s in (0, 202, 408, 429) or s >= 500, f"{session_id} chunk {seq}: {s} {a}"
                if ok:
                    with ledger.progress:
                        ledger.acked.add((session_id, seq))
                        ledger.stored_answers[(session_id, seq)] = sum(bool(a.get("stored")) for a in ok)
                        ledger.progress.notify_all()
                    break
                tries += 1
                with ledger.lock:
                    ledger.retries += 1
                target = (target + 1) % len(collectors)  # the balancer routes the retry elsewhere
                time.sleep(min(1.0, RETRY_BASE_S * 2 ** (tries - 1)) * (0.5 + random.random() / 2))


def start_collectors(location: str, tmp_path: Path) -> list[ServeProcess]:
    ports = set()
    while len(ports) < N_COLLECTORS:
        ports.add(free_port())
    collectors = [ServeProcess(location, port, tmp_path / f"collector-{i}.log",
                               "--role", "collector", team=False)
                  for i, port in enumerate(sorted(ports))]
    with ThreadPoolExecutor(N_COLLECTORS) as pool:  # each waits for its own health check
        started = list(pool.map(_try_start, collectors))
    failed = [e for e in started if e is not None]
    if failed:
        for c in collectors:
            if c.proc is not None:
                c.stop()
        raise failed[0]
    return collectors


def _try_start(collector: ServeProcess) -> Exception | None:
    try:
        collector.start()
    except Exception as exc:
        return exc
    return None


def test_three_collectors_one_killed_mid_stream_store_every_acknowledged_chunk_once(store_location,
                                                                                      tmp_path):
    with SessionStore(store_location) as store:
        key = add_site(store, "shop", [ORIGIN])
    collectors = start_collectors(store_location, tmp_path)
    sessions = {f"many-{i:02d}-{uuid.uuid4().hex[:12]}": session_chunks(i) for i in range(N_SESSIONS)}
    ledger = Ledger()
    deadline = time.monotonic() + DEADLINE_S
    try:
        with ThreadPoolExecutor(N_SESSIONS) as pool:
            sent = [pool.submit(send_session, collectors, key, i, sid, chunks, ledger, deadline)
                    for i, (sid, chunks) in enumerate(sessions.items())]
            with ledger.progress:  # mid-stream: a third of the chunks acknowledged, the rest to come
                assert ledger.progress.wait_for(lambda: len(ledger.acked) >= KILL_AFTER or
                                                any(f.done() for f in sent), timeout=DEADLINE_S)
                acked_before_kill = len(ledger.acked)
            collectors[0].kill()
            for f in sent:
                f.result()
    finally:
        for c in collectors:
            c.stop()

    total = N_SESSIONS * N_CHUNKS
    assert acked_before_kill < total, "the collector was killed mid-stream"
    assert len(ledger.acked) == total, "every chunk was acknowledged in the end"
    assert ledger.retries > 0, "the killed collector's senders had to retry elsewhere"
    assert len(ledger.twice) == N_SESSIONS * len(range(1, N_CHUNKS, TWICE_EVERY))
    # A chunk sent to two collectors at once was acknowledged by both as stored by exactly one.
    for key_ in ledger.stored_answers:
        assert ledger.stored_answers[key_] <= 1, f"{key_} answered 'stored' twice"
    both_answered = [pair for pair in ledger.twice if pair == (202, 202)]
    assert both_answered, "some doubly sent chunk was answered by both collectors"

    with SessionStore(store_location) as store:
        for session_id, chunks in sessions.items():
            rows = store.chunk_rows(session_id)
            assert [r["seq"] for r in rows] == list(range(N_CHUNKS)), session_id
            assert [r["n_events"] for r in rows] == [len(c) for c in chunks]
            session = store.get_session(session_id)
            assert session is not None and session["site"] == "shop"
            assert session["n_chunks"] == N_CHUNKS  # folded once per chunk, duplicates not counted
            assert session["n_events"] == N_CHUNKS * EVENTS_PER_CHUNK
            read = store.read_events(session_id)
            assert read.complete, read.problems
            assert read.events == [e for c in chunks for e in c]
            assert json.loads(store.export_events(session_id)) == read.events
