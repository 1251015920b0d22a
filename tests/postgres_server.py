"""A real PostgreSQL server for tests and benchmarks: `initdb` into a temp folder, `postgres` as a
direct child on 127.0.0.1 at a free port (and a unix socket in that folder), stopped afterwards.

No mock database anywhere (issue 14): the store's PostgreSQL backend is tested against the server
Debian ships (scripts/setup.sh installs it). Standard library only, and no part of the product, so
bench/ can start one too (it puts tests/ on sys.path, as bench_ingest does for collector_helpers).

The server dies with the process that started it: the child asks the kernel for SIGQUIT (immediate
shutdown) when its parent thread ends (prctl PR_SET_PDEATHSIG), so a killed test run leaves no
postgres behind; `stop()` is the clean way. fsync stays on: the store claims that what it
acknowledges is durable, and the measurements should pay what that costs.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0  # seconds for initdb, and again for the server to accept connections
STOP_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1
SUPERUSER = "postgres"  # the role initdb creates; trust authentication, loopback and socket only


class PostgresNotFound(RuntimeError):
    """The server binaries are missing: a test that needs PostgreSQL fails with this (never skips)."""


def find_bindir() -> Path:
    """The folder holding `initdb` and `postgres`: $SESSIONHEAT_PG_BINDIR, Debian's
    /usr/lib/postgresql/<newest>/bin, `pg_config --bindir`, or PATH."""
    candidates: list[Path] = []
    if os.environ.get("SESSIONHEAT_PG_BINDIR"):
        candidates.append(Path(os.environ["SESSIONHEAT_PG_BINDIR"]))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in debian), key=lambda p: _version_key(p.parent.name), reverse=True)
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, postgres) not found in $SESSIONHEAT_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin, `pg_config --bindir` or PATH: run scripts/setup.sh "
        "(it installs Debian's postgresql package); the PostgreSQL tests need a real server")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def free_port() -> int:
    """A loopback port nothing listens on now (the server's start retries if another took it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run initdb and postgres as: they refuse to run as root, so as root that is the
    `postgres` account; anyone else runs them as themselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresNotFound(
            "running as root, and there is no `postgres` account to run the server as "
            "(Debian's postgresql package creates it: run scripts/setup.sh)") from None
    return account.pw_uid, account.pw_gid


def _child_setup(account: tuple[int, int] | None, parent: int) -> Any:
    """The preexec_fn: drop to the server's account, then ask to be SIGQUIT when the parent ends.
    In that order, because changing credentials clears the parent-death signal."""
    def setup() -> None:
        if account is not None:
            os.setgroups([])
            os.setgid(account[1])
            os.setuid(account[0])
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
            os._exit(1)
    return setup


class PostgresServer:
    """One throwaway cluster. `start()` returns once it accepts connections; `url(db)` gives a
    connection URL on 127.0.0.1; `create_database()` / `drop_database()` make per-test databases."""

    def __init__(self, bindir: Path | None = None, max_connections: int = 200,
                 settings: dict[str, str] | None = None) -> None:
        """`settings`: server settings (postgresql.conf names) over ours, e.g. auto_explain's for a
        benchmark that wants the plans of its slow statements in the log."""
        self.bindir = bindir or find_bindir()
        self.max_connections = max_connections
        self.settings = settings or {}
        self.root = Path(tempfile.mkdtemp(prefix="sessionheat-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root  # short path: a unix socket path is limited to ~107 bytes
        self.log_path = self.root / "server.log"
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._account = _server_account()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> PostgresServer:
        try:
            if self._account is not None:
                os.chown(self.root, *self._account)
            self._initdb()
            for _attempt in range(3):
                self.port = free_port()
                if self._launch():
                    return self
            raise RuntimeError(f"postgres did not start; its log ({self.log_path}):\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _run_as_server(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, preexec_fn=_child_setup(self._account, os.getpid()),
                              cwd=self.root, **kwargs)

    def _initdb(self) -> None:
        # --no-sync only skips initdb's own final flush of a throwaway template; the server runs with
        # fsync on.
        result = self._run_as_server(
            [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, timeout=START_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n"
                               f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}")

    def _launch(self) -> bool:
        """Starts postgres on self.port; True once it accepts connections, False if it exited (say
        the port was taken meanwhile). Raises when it neither exits nor answers in time."""
        settings = {"listen_addresses": self.host, "unix_socket_directories": str(self.socket_dir),
                    "fsync": "on", "synchronous_commit": "on", "max_connections": str(self.max_connections),
                    "logging_collector": "off", "log_min_messages": "warning"}
        if any(name.startswith("auto_explain.") for name in self.settings):
            settings["log_min_messages"] = "log"  # auto_explain writes its plans at LOG
        settings.update(self.settings)
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                 *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}"))],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.root,
                preexec_fn=_child_setup(self._account, os.getpid()))
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            if self._accepts_connections():
                return True
            time.sleep(0.05)  # polling a readiness probe, bounded by the deadline
        raise RuntimeError(f"postgres did not accept connections within {START_TIMEOUT:.0f} s; "
                           f"its log:\n{self.log_tail()}")

    def _accepts_connections(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT: open sessions are rolled back, the checkpoint written), SIGKILL if
        it hangs, then the temp folder goes."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def version(self) -> str:
        """The server's version, e.g. "15.14"."""
        import psycopg

        with psycopg.connect(self.url("postgres")) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- databases ----------------------------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._admin(f'CREATE DATABASE "{_checked(name)}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops it even while something still holds a connection (a pool a test forgot to close)."""
        self._admin(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())


def _checked(name: str) -> str:
    """A database name safe to quote into DDL (names are ours: letters, digits, underscores)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ValueError(f"not a database name: {name!r}")
    return name
