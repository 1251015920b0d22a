"""What every command of the CLI shares: the `--db` and `--json` options, the parameter types, how a
store is opened and how refusals and progress are shown. Commands from other packages (the
`sessionheat.commands` entry points, such as `sessionheat demo`) use these too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

import click

from plumbing.user_input import InputError, parse_choice, parse_pair, parse_size

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "sessionheat.db"
SQLITE_HEADER = b"SQLite format 3\x00"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")  # as plumbing.store.backends reads them


@overload
def db_option(fn: F) -> F: ...


@overload
def db_option(*, existing: bool = False) -> Callable[[F], F]: ...


def db_option(fn: F | None = None, *, existing: bool = False) -> F | Callable[[F], F]:
    """`--db PATH|URL`, the same on every command (and `SESSIONHEAT_DB` for all of them): a SQLite
    file, or a `postgresql://` URL. `existing=True` for commands that only read: a mistyped path
    must be refused, not answered from a new, empty database left behind. Either way, a file that
    is not SQLite (a JSON export given by mistake) is refused by name."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Path | str:
        if str(value).startswith(POSTGRES_SCHEMES):
            return str(value)  # checked when opened: the server says whether it is there
        path = Path(value)
        if path.is_dir():
            raise click.BadParameter(f"{path} is a folder; give the SQLite file sessions are recorded "
                                     "into (or a postgresql:// URL)", ctx, param)
        if path.exists():
            with path.open("rb") as f:
                head = f.read(len(SQLITE_HEADER))
            if head and head != SQLITE_HEADER:
                raise click.BadParameter(f"{path} is not a SQLite database (sessionheat's --db is the "
                                         f"SQLite file sessions are recorded into, or a postgresql:// "
                                         f"URL)", ctx, param)
        elif existing:
            raise click.BadParameter(
                f"no database at {path}; give the file sessions were recorded into, or create one "
                f"with `sessionheat record`, `import` or `demo`", ctx, param)
        return path

    def decorate(f: F) -> F:
        return click.option(
            "--db", "db_path", type=str, default=DEFAULT_DB, metavar="PATH|URL",
            show_default=True, envvar="SESSIONHEAT_DB", callback=check,
            help="The store: a SQLite file, or a postgresql://USER@HOST/DB URL (also $SESSIONHEAT_DB)"
                 + ("; it must exist." if existing else "."),
        )(f)

    return decorate(fn) if fn is not None else decorate


def shown_location(location: Path | str) -> str:
    """A store's location for messages: a URL's password left out."""
    text = str(location)
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", text) if text.startswith(POSTGRES_SCHEMES) else text


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


VIEWPORT_PX = (100, 10_000)  # a browser window a recording can open, in px either way


class ViewportParam(click.ParamType):  # type: ignore[type-arg]  # generic in newer click; we support 8.1
    """WIDTHxHEIGHT, as `plumbing.user_input.parse_size` reads it."""

    name = "WxH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(str(value), "viewport", least=VIEWPORT_PX[0], most=VIEWPORT_PX[1])
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class GoalParam(click.ParamType):  # type: ignore[type-arg]  # generic in newer click; we support 8.1
    """A goal, `url:PATH` or `event:NAME`, as `plumbing.conversions.parse_goal` reads it."""

    name = "GOAL"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from plumbing.conversions import Goal, parse_goal

        if isinstance(value, Goal):
            return value
        try:
            return parse_goal(str(value), "goal")
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class WordChoice(click.Choice):  # type: ignore[type-arg]  # generic in newer click; we support 8.1
    """One of a few words (a heatmap kind, a role), refused in the parser's wording; the help
    lists the words as click.Choice does."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return parse_choice(str(value), param.name if param is not None else "value",
                                [str(c) for c in self.choices])
        except InputError as exc:
            self.fail(str(exc), param, ctx)


def parse_properties(pairs: tuple[str, ...]) -> dict[str, str]:
    try:
        return dict(parse_pair(pair, "property") for pair in pairs)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--property") from None


def open_store(db_path: Path | str) -> Any:
    """The store at `--db`; a PostgreSQL store that cannot be opened is a clean CLI error."""
    import sqlite3

    from plumbing.store import SessionStore, StoreError

    try:
        return SessionStore(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.DatabaseError as exc:  # a folder, or a file that is not a SQLite database
        raise click.ClickException(f"{db_path}: not a sessionheat store ({exc})") from None


def refusals(fn: F) -> F:
    """Turn the store's refusals (bad input) into a clean error message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plumbing.store import StoreError

        try:
            return fn(*args, **kwargs)
        except (StoreError, KeyError, FileNotFoundError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise click.ClickException(str(message)) from None

    return wrapper  # type: ignore[return-value]


# -- commands ------------------------------------------------------------------------------------


def progress_bars(console: Any) -> Any:
    """Progress bars on `console` (stderr), the same for every long command."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)




def cluster_option(help_text: str) -> Callable[[F], F]:
    """`--cluster ADDRESS`, a Dask scheduler to index on (the `cluster` extra), or
    SESSIONHEAT_CLUSTER for every command that indexes."""
    return click.option("--cluster", metavar="ADDRESS", envvar="SESSIONHEAT_CLUSTER", help=help_text)

