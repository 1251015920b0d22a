"""The PostgreSQL server the tests start (tests/postgres_server.py) is a real one: it stores what it
is given, listens on loopback only, keeps its data in a temp folder with fsync on, and goes away
when stopped or when the process that started it dies."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from postgres_server import PostgresServer

HERE = Path(__file__).resolve().parent


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until(condition, timeout: float = 30.0) -> bool:
    """Polls `condition` until true or `timeout` passes (the process end has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_database_stores_and_reads_back(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body jsonb NOT NULL)")
        conn.execute("INSERT INTO notes (body) VALUES (%s::jsonb), (%s::jsonb)", ['{"a": 1}', '{"b": "é"}'])
    with psycopg.connect(postgres_url) as conn:  # a new connection: the rows were committed
        rows = conn.execute("SELECT body FROM notes ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [{"a": 1}, {"b": "é"}]
        assert conn.execute("SHOW fsync").fetchone() == ("on",)
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)


def test_each_test_gets_a_fresh_empty_database(postgres_url, postgres_server):
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
        assert tables == (0,)
        name = conn.execute("SELECT current_database()").fetchone()[0]
    assert name != "postgres" and postgres_url == postgres_server.url(name)


def test_the_server_listens_on_loopback_and_its_socket_only(postgres_server):
    with psycopg.connect(postgres_server.url()) as conn:
        assert str(conn.execute("SELECT inet_server_addr()").fetchone()[0]) == "127.0.0.1"
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
    # and through the unix socket in its temp folder
    with psycopg.connect(host=str(postgres_server.socket_dir), port=postgres_server.port,
                         user="postgres", dbname="postgres") as conn:
        assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)  # None: a unix socket
    assert data_dir == postgres_server.data_dir
    assert data_dir.is_relative_to(Path(tempfile.gettempdir()).resolve())


def test_the_server_stops_at_teardown():
    server = PostgresServer().start()
    pid, port, root = server.pid, server.port, server.root
    assert pid is not None and pid_alive(pid)
    with psycopg.connect(server.url()) as conn:
        conn.execute("SELECT 1")
    server.stop()
    assert not pid_alive(pid)
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5)


def test_the_server_dies_with_the_process_that_started_it():
    """A test run killed outright (SIGKILL: no teardown runs) leaves no postgres behind."""
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1])\n"
        "from postgres_server import PostgresServer\n"
        "s = PostgresServer().start()\n"
        "print(s.pid, s.root, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(HERE)], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        pid_text, root = line.split()
        pid = int(pid_text)
        assert pid_alive(pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        assert wait_until(lambda: not pid_alive(pid)), "postgres outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
    # no teardown ran, so its temp folder is left; remove it as that run's cleanup would have
    shutil.rmtree(root, ignore_errors=True)

