"""The `sessionheat` command: a thin skin over the library.

Each command parses its flags, calls one library function and prints. Stage packages are imported
inside the commands, so `sessionheat --help` loads neither Playwright nor OpenCV. Other packages add
commands through the `sessionheat.commands` entry points (see plugin_commands.py): that is how
`sessionheat demo` arrives, from demo/cli.py, using the shared options defined here.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from plumbing.user_input import InputError, parse_choice, parse_pair, parse_size
from plumbing.vocabulary import (
    DEFAULT_VIEWPORT,
    HEATMAP_KINDS,
    MIB,
    SESSION_BYTES_CAP,
    SESSION_EVENTS_CAP,
    counted,
)

from sessionheat import __version__
from sessionheat.plugin_commands import PluginGroup

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "sessionheat.db"


# -- options shared by many commands, defined once ------------------------------------------------

SQLITE_HEADER = b"SQLite format 3\x00"


def db_option(fn: F | None = None, *, existing: bool = False) -> Any:
    """`--db PATH`, the same on every command. `existing=True` for commands that only read: a
    mistyped path must be refused, not answered from a new, empty database left behind. Either
    way, a file that is not SQLite (a JSON export given by mistake) is refused by name."""

    def check(ctx: click.Context, param: click.Parameter, path: Path) -> Path:
        if path.exists():
            with path.open("rb") as f:
                head = f.read(len(SQLITE_HEADER))
            if head and head != SQLITE_HEADER:
                raise click.BadParameter(f"{path} is not a SQLite database (sessionheat's --db is the "
                                         f"SQLite file sessions are recorded into)", ctx, param)
        elif existing:
            raise click.BadParameter(
                f"no database at {path}; give the file sessions were recorded into, or create one "
                f"with `sessionheat record`, `import` or `demo`", ctx, param)
        return path

    def decorate(f: F) -> F:
        return click.option(
            "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
            show_default=True, envvar="SESSIONHEAT_DB", callback=check,
            help="SQLite file holding the sessions" + (" (must exist)." if existing else "."),
        )(f)

    return decorate(fn) if fn is not None else decorate


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


VIEWPORT_PX = (100, 10_000)  # a browser window a recording can open, in px either way


class ViewportParam(click.ParamType):
    """WIDTHxHEIGHT, as `plumbing.user_input.parse_size` reads it."""

    name = "WxH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(str(value), "viewport", least=VIEWPORT_PX[0], most=VIEWPORT_PX[1])
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class WordChoice(click.Choice):
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


def open_store(db_path: Path) -> Any:
    from plumbing.store import SessionStore

    return SessionStore(db_path)


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

@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sessionheat")
def main() -> None:
    """Record, replay and map sessions on your staging site, element by element."""


@main.command("record")
@db_option
@click.argument("url")
@click.option("--journey", "journey_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Python file defining journey(page, rng); without it, --headed lets a person drive.")
@click.option("--sessions", "n_sessions", default=1, show_default=True, help="Sessions to record.")
@click.option("--viewport", "viewports", type=ViewportParam(), multiple=True,
              help="WIDTHxHEIGHT; repeat to cycle visitors through several."
                   f"  [default: {DEFAULT_VIEWPORT[0]}x{DEFAULT_VIEWPORT[1]}]")
@click.option("--property", "properties", multiple=True, metavar="KEY=VALUE",
              help="Tag the sessions (repeatable), e.g. --property variant=B.")
@click.option("--seed", default=0, show_default=True, help="Seed for the journeys' randomness.")
@click.option("--headed", is_flag=True, help="Show the browser window.")
@click.option("--unmask-inputs", is_flag=True,
              help="Record what is typed into inputs (password fields stay masked).")
@click.option("--evidence", is_flag=True, help="Also record each click's live element box.")
@refusals
def record_command(db_path: Path, url: str, journey_file: Path | None, n_sessions: int,
                   viewports: tuple[tuple[int, int], ...], properties: tuple[str, ...], seed: int,
                   headed: bool, unmask_inputs: bool, evidence: bool) -> None:
    """Record browser sessions on URL, scripted by a journey file or driven by hand (--headed)."""
    from rich.console import Console

    from recorder import JourneyPlan, load_journey, record_journeys

    props = parse_properties(properties)
    journey: Callable[[Any, Any], None]
    if journey_file is None:
        if not headed:
            raise click.UsageError("give --journey FILE, or --headed to drive the browser yourself")
        journey = _wait_for_person
        n_sessions = 1
    else:
        journey = load_journey(journey_file)
    sizes = list(viewports) or [DEFAULT_VIEWPORT]
    plans = [JourneyPlan(url, sizes[i % len(sizes)], props) for i in range(n_sessions)]
    console = Console(stderr=True)
    store = open_store(db_path)
    with progress_bars(console) as bar:
        task = bar.add_task("recording", total=len(plans))
        runs = record_journeys(plans, journey, store=store, seed=seed, headless=not headed,
                               mask_inputs=not unmask_inputs, evidence=evidence,
                               progress=lambda run: bar.advance(task))
    for run in runs:
        status = f"  error: {run.error}" if run.error else ""
        click.echo(f"{run.session_id}  {run.viewport[0]}x{run.viewport[1]}{status}")
    if any(run.error for run in runs):
        sys.exit(1)


def _wait_for_person(page: Any, rng: Any) -> None:
    click.echo("Recording: browse in the window, close it when you are done.", err=True)
    page.wait_for_event("close", timeout=0)


@main.command("sessions")
@db_option(existing=True)
@json_option
@click.option("--limit", default=100, show_default=True, help="At most this many, newest first.")
def sessions_command(db_path: Path, as_json: bool, limit: int) -> None:
    """List recorded sessions."""
    rows = open_store(db_path).list_sessions(limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("started", "duration", "pages", "device", "viewport", "events", "properties")
    table.add_column("id", no_wrap=True)
    for r in rows:
        table.add_row(
            (r["started_at"] or "")[:19].replace("T", " "),
            f"{r['duration_ms'] / 1000:.1f}s", str(r["n_pageviews"]), r["device"],
            f"{r['viewport_w']}x{r['viewport_h']}" if r["viewport_w"] else "",
            str(r["n_events"]), " ".join(f"{k}={v}" for k, v in sorted(r["properties"].items())),
            r["id"],
        )
    console = Console()
    if not console.is_terminal:  # piped: never wrap ids onto two lines
        console.width = 200
    console.print(table)


@main.command("export")
@db_option(existing=True)
@click.argument("session_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@refusals
def export_command(db_path: Path, session_id: str, output: Path | None) -> None:
    """Write a session's rrweb events as a JSON array (what rrweb-player loads)."""
    store = open_store(db_path)
    read = store.read_events(session_id)
    for problem in read.problems:
        click.echo(f"warning: {problem.reason}; exporting the events before it", err=True)
    text = read.to_json()
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:  # FileNotFoundError's first argument is its errno: say it in words
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"wrote {len(read.events)} events to {output}", err=True)
    else:
        click.echo(text)


@main.command("import")
@db_option
@click.argument("file", type=click.File("rb"))
@click.option("--id", "session_id", help="Session id to use (default: derived from the events).")
@click.option("--property", "properties", multiple=True, metavar="KEY=VALUE", help="Tag the session.")
@refusals
def import_command(db_path: Path, file: Any, session_id: str | None, properties: tuple[str, ...]) -> None:
    """Import rrweb events: a JSON array, or an object with an "events" array. '-' reads stdin."""
    raw = file.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from None
    store = open_store(db_path)
    sid, created = store.import_events(data, session_id=session_id,
                                       properties=parse_properties(properties))
    click.echo(sid if created else f"{sid} (already imported, nothing written)")


@main.command("replay")
@db_option(existing=True)
@click.argument("session_id")
@click.option("--at", "at_ms", type=float, metavar="MS", help="Moment to show, in ms since the session's start.")
@click.option("--screenshot", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a PNG of the page at --at (default: the end).")
@click.option("--full-page", is_flag=True, help="Screenshot the whole document, not just the viewport.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 of the session.")
@click.option("--fps", default=10.0, show_default=True, help="Video frames per second.")
@click.option("--speed", default=1.0, show_default=True, help="Video speed: 2 plays twice as fast.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a standalone player page that opens offline from file://.")
@refusals
def replay_command(db_path: Path, session_id: str, at_ms: float | None, screenshot: Path | None,
                   full_page: bool, video: Path | None, fps: float, speed: float,
                   html_out: Path | None) -> None:
    """Replay a session headlessly: a screenshot at a moment, a video, or an offline player page."""
    if not (screenshot or video or html_out):
        raise click.UsageError("give --screenshot PNG, --video MP4 or --html FILE")
    from rich.console import Console

    import replay

    store = open_store(db_path)
    if at_ms is not None:
        _check_moment(store, session_id, at_ms)
    console = Console(stderr=True)
    if html_out:
        replay.write_player_html(store, session_id, html_out)
        click.echo(f"wrote player {html_out}")
    if not (screenshot or video):
        return
    with replay.open_session(store, session_id) as rp:
        for problem in rp.problems:
            click.echo(f"warning: {problem}; replaying up to it", err=True)
        if screenshot:
            at = rp.duration if at_ms is None else at_ms
            rp.seek(at)
            rp.screenshot(screenshot, full_page=full_page)
            w, h = rp.viewport()
            click.echo(f"wrote {screenshot} (t={at:.0f} ms, viewport {w}x{h})")
            for item in rp.unfaithful():
                click.echo(f"  not faithful: {item['kind']}: {item['detail']}", err=True)
        if video:
            with progress_bars(console) as bar:
                task = bar.add_task("rendering video", total=None)
                result = replay.render_video(
                    rp, video, fps=fps, speed=speed,
                    progress=lambda done, total: bar.update(task, completed=done, total=total))
            click.echo(f"wrote {result.path}: {result.frames} frames, {result.size[0]}x{result.size[1]},"
                       f" {result.fps:g} fps, {result.skipped_ms / 1000:.1f} s idle skipped")


def _check_moment(store: Any, session_id: str, at_ms: float) -> None:
    """Refuse a moment outside the session before a browser starts: seeking past the end (or
    before the start) would silently show the last (or first) frame as if it were that moment."""
    row = store.get_session(session_id)
    if row is None:
        raise click.ClickException(f"no session {session_id}")
    duration = int(row["duration_ms"] or 0)
    if not 0 <= at_ms <= duration:
        raise click.BadParameter(f"{at_ms:g} ms is outside session {session_id}, which lasts {duration:,} ms "
                                 f"({duration / 1000:.1f} s): give 0 to {duration}", param_hint="--at")


@main.command("index")
@db_option(existing=True)
@json_option
@click.option("--rebuild", is_flag=True, help="Recompute every session's hits from its raw events.")
@click.option("--workers", type=click.IntRange(1, 16), default=None,
              help="Sessions indexed at once, one Chromium each.  [default: one per core]")
def index_command(db_path: Path, as_json: bool, rebuild: bool, workers: int | None) -> None:
    """Resolve every interaction of sessions not yet indexed to the element it hit."""
    from rich.console import Console

    from heatmap import index_sessions

    store = open_store(db_path)
    todo = store.sessions_to_index(rebuild=rebuild)
    if not todo:
        if as_json:
            click.echo("[]")
            return
        total = len(store.sessions_to_index(rebuild=True))
        click.echo(f"nothing to index: all {counted(total, 'session')} already indexed; --rebuild recomputes"
                   f" them from their events" if total else "nothing to index: no sessions with events yet")
        return
    with progress_bars(Console(stderr=True)) as bar:
        task = bar.add_task("indexing sessions", total=len(todo))
        results = index_sessions(store, rebuild=rebuild, workers=workers,
                                 progress=lambda r: bar.advance(task))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results], indent=2))
        return
    hits = sum(r.n_hits for r in results)
    click.echo(f"indexed {len(results)} sessions: {hits} hits")
    for r in results:
        if r.problem:
            click.echo(f"  {r.session_id}: {r.problem}", err=True)


@main.command("heatmap")
@db_option(existing=True)
@click.option("--url", required=True, help="Page URL or path (query ignored), e.g. /pricing.html.")
@click.option("--kind", type=WordChoice(HEATMAP_KINDS),
              default="click", show_default=True)
@click.option("--segment", "segments", multiple=True, metavar="KEY=VALUE",
              help="Filter: device=, viewport=WxH, since=/until=YYYY-MM-DD, or any session property.")
@click.option("--viewport", type=ViewportParam(), help="Only this viewport's bucket (mobile/tablet/desktop).")
@click.option("--since", help="First day, YYYY-MM-DD.")
@click.option("--until", help="Last day, YYYY-MM-DD.")
@click.option("--reference", help="Session whose layout to draw on (default: the pageview that had the "
                                  "elements of most hits, photographed when it showed most of them).")
@click.option("--compare", "compare", multiple=True, metavar="KEY=VALUE",
              help="Second segment: draw both and their difference (click, move, rage, dead).")
@click.option("--out", "out_png", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="PNG to write.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write placed points, the element table and hits not on this layout.")
@refusals
def heatmap_command(db_path: Path, url: str, kind: str, segments: tuple[str, ...],
                    viewport: tuple[int, int] | None, since: str | None, until: str | None,
                    reference: str | None, compare: tuple[str, ...], out_png: Path,
                    json_path: Path | None) -> None:
    """Draw a heatmap of URL on one reference layout, every hit placed through its element."""
    from heatmap import HeatmapError, Segment, SegmentError, build_compare, build_heatmap, write_compare

    store = open_store(db_path)
    fixed = {"url": url, "viewport_w": viewport[0] if viewport else None, "since": since, "until": until}
    try:
        segment = Segment.parse(segments, **fixed)
        if segment.bucket_label():
            click.echo(f"width {segment.viewport_w} px: drawing {segment.bucket_label()}")
        if compare:
            a, b, diff = build_compare(store, segment, Segment.parse(compare, **fixed), kind,
                                       reference=reference)
            diff_png, a_png, b_png, *js = write_compare(out_png, a, b, diff, json_path)
            click.echo(f"wrote {diff_png} (difference, A - B), {a_png} (A: {a.segment.label()}, "
                       f"{counted(a.n_sessions, 'session')}) and {b_png} (B: {b.segment.label()}, "
                       f"{counted(b.n_sessions, 'session')}), on {a.reference.session_id}'s layout"
                       + (f"; points and tables in {js[0]}" if js else ""))
            for name, side in (("A", a), ("B", b)):
                if side.caution:
                    click.echo(f"caution ({name}): {side.caution}", err=True)
            return
        result = build_heatmap(store, segment, kind, reference=reference)
    except (HeatmapError, SegmentError) as exc:
        raise click.ClickException(str(exc)) from None
    result.write(out_png, json_path)
    summary = (f"wrote {out_png}: {kind} of {counted(result.n_sessions, 'session')} on"
               f" {result.reference.session_id}'s layout")
    if result.placement:
        summary += f", {len(result.placement.points)} placed, {result.placement.n_missing} not on this layout"
    click.echo(summary)
    for panel in result.states:  # hits drawn on a photograph of the page state they were made in
        drawn = f"{len(panel.placement.points)} placed" if panel.placement else "scroll depth"
        click.echo(f"  {panel.group.title}: {drawn}, on {out_png.with_name(panel.png or '?')}")
    if result.caution:
        click.echo(f"caution: {result.caution}", err=True)


@main.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes it to your network (see README, Deploying).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--role", type=WordChoice(["all", "collector", "ui"]), default="all", show_default=True,
              help="collector: only the snippet and the chunk endpoint, for visitors' browsers; "
                   "ui: only the team's pages (login required); all: both.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name this server answers besides loopback names (repeatable; "
                   "*.example.com for its subdomains). Other Host headers are refused.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
              help="Address of an SSO proxy (oauth2-proxy, a gateway) whose user-name header is "
                   "believed (repeatable). Requests from anywhere else cannot name a user.")
@click.option("--proxy-user-header", default="X-Forwarded-User", show_default=True,
              help="The header in which a trusted proxy names the user.")
@click.option("--site-mb-per-s", default=8.0, show_default=True, type=click.FloatRange(0),
              help="Event data each site may send per second, in MiB (bursts of 16 s allowed; "
                   "0: no limit). Over it, chunks get 429 and the snippet retries them later.")
def serve_command(db_path: Path, host: str, port: int, role: str, allowed_hosts: tuple[str, ...],
                  trusted_proxies: tuple[str, ...], proxy_user_header: str, site_mb_per_s: float) -> None:
    """Serve the web UI, the recording snippet (/snippet.js) and the collector that stores sessions."""
    import uvicorn

    from sessionheat.web import Limits, create_app
    from sessionheat.web.access import AccessPolicy, is_loopback
    from sessionheat.web.auth import LocalLink

    rate = int(site_mb_per_s * 1024 * 1024)
    limits = Limits(site_bytes_per_s=rate, site_burst_bytes=16 * rate)
    store = open_store(db_path)
    link = None
    if role != "collector" and store.count_users() == 0 and not trusted_proxies:
        if not is_loopback(host):
            raise click.ClickException(
                f"no user can log in yet, and {host} is reachable from other machines: create one "
                f"first with `sessionheat users add NAME --role admin --db {db_path}`, or listen on "
                "127.0.0.1, or serve only the collector there (--role collector)")
        link = LocalLink()
    access = AccessPolicy.for_listener(host, allowed_hosts, trusted_proxies=frozenset(trusted_proxies),
                                       proxy_user_header=proxy_user_header.lower(), local_link=link)
    shown = host if is_loopback(host) or host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
    parts = {"all": f"UI at {base}/ , snippet at {base}/snippet.js", "ui": f"UI at {base}/",
             "collector": f"collector only: snippet at {base}/snippet.js"}[role]
    click.echo(f"sessionheat: {parts}, sessions in {db_path}", err=True)
    if link is not None:
        click.echo(f"sessionheat: no user exists yet; open this one-time link to log in as admin:\n"
                   f"    {base}/login/link?token={link.token}\n"
                   f"  (to keep access, create a user: sessionheat users add NAME --role admin)", err=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        click.echo("sessionheat: only requests for loopback names are answered; add the names people "
                   "and pages use to reach this server with --allowed-host NAME", err=True)
    uvicorn.run(create_app(store, limits=limits, own_process=True, role=role, access=access),
                host=host, port=port, log_level="info", access_log=False)


# -- users: who may read recordings ----------------------------------------------------------------

def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    if not password:
        raise click.ClickException("a password cannot be empty")
    return password


def password_options(fn: F) -> F:
    return click.option("--password-stdin", is_flag=True,
                        help="Read the password from the first line of standard input instead of "
                             "asking for it.")(fn)


@main.group("users")
def users_group() -> None:
    """Manage who may log in to the web UI and read recordings."""


@users_group.command("add")
@db_option
@click.argument("name")
@click.option("--role", type=WordChoice(["viewer", "admin"]), default="viewer", show_default=True,
              help="viewer: reads sessions and maps; admin: also starts indexing.")
@password_options
@click.option("--no-password", is_flag=True,
              help="No password: this user signs in only through the SSO proxy (--trusted-proxy).")
@refusals
def users_add_command(db_path: Path, name: str, role: str, password_stdin: bool, no_password: bool) -> None:
    """Add a user (the password is asked for, never taken as an argument)."""
    from sessionheat.web.auth import add_user

    password = None if no_password else _read_password(password_stdin)
    try:
        add_user(open_store(db_path), name, role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {name} ({role})", err=True)


@users_group.command("list")
@db_option(existing=True)
@json_option
def users_list_command(db_path: Path, as_json: bool) -> None:
    """List users with their roles (never a secret)."""
    users = open_store(db_path).list_users()
    if as_json:
        click.echo(json.dumps(users, indent=2))
        return
    for user in users:
        how = "password" if user["password"] else "SSO only"
        click.echo(f"{user['name']}\t{user['role']}\t{how}\t{counted(user['tokens'], 'API token')}")


@users_group.command("remove")
@db_option(existing=True)
@click.argument("name")
@refusals
def users_remove_command(db_path: Path, name: str) -> None:
    """Remove a user: its logins and API tokens stop working at once."""
    open_store(db_path).remove_user(name)
    click.echo(f"removed {name}; its logins and API tokens no longer work", err=True)


@users_group.command("passwd")
@db_option(existing=True)
@click.argument("name")
@password_options
@refusals
def users_passwd_command(db_path: Path, name: str, password_stdin: bool) -> None:
    """Set a user's password; whoever was logged in as that user is logged out."""
    from sessionheat.web.auth import set_password

    store = open_store(db_path)
    if store.get_user(name) is None:
        raise click.ClickException(f"no user named {name!r}")
    set_password(store, name, _read_password(password_stdin))
    click.echo(f"new password for {name}; its logins have ended", err=True)


@users_group.command("token")
@db_option(existing=True)
@click.argument("name")
@click.option("--label", default="", help="What the token is for, to recognise it later.")
@click.option("--revoke", is_flag=True, help="Revoke all of this user's tokens instead.")
@refusals
def users_token_command(db_path: Path, name: str, label: str, revoke: bool) -> None:
    """Print a new API token for scripts (`Authorization: Bearer TOKEN`); it is shown only once."""
    from sessionheat.web.auth import new_api_token

    store = open_store(db_path)
    if revoke:
        n = store.revoke_api_tokens(name)
        click.echo(f"revoked {counted(n, 'API token')} of {name}", err=True)
        return
    click.echo(new_api_token(store, name, label))  # alone on stdout, for scripts


@main.group("sites")
def sites_group() -> None:
    """Manage the sites whose pages may send sessions to `sessionheat serve`."""


def site_policy_options(fn: F) -> F:
    """The options `sites add` and `sites set` share: what a site's sessions may hold."""
    fn = click.option("--max-session-events", type=click.IntRange(0), metavar="N",
                      help="Cap on one session's events (0: none; default: the collector's, "
                           + f"{SESSION_EVENTS_CAP:,}".replace(",", " ") + ").")(fn)
    fn = click.option("--max-session-mb", type=click.FloatRange(0), metavar="N",
                      help="Cap on one session's event data in MiB, uncompressed (0: none; "
                           f"default: the collector's, {SESSION_BYTES_CAP // MIB}). Past a cap, chunks get 413.")(fn)
    return fn


def site_policy(max_session_mb: float | None, max_session_events: int | None,
                record_inputs: bool | None) -> dict[str, Any]:
    """The store's settings for the options given (those left out are not changed)."""
    policy: dict[str, Any] = {"record_inputs": record_inputs, "max_session_events": max_session_events,
                              "max_session_bytes": None if max_session_mb is None
                              else int(max_session_mb * 1024 * 1024)}
    return {k: v for k, v in policy.items() if v is not None}


@sites_group.command("add")
@db_option
@click.argument("name")
@click.option("--origin", "origins", multiple=True, required=True, metavar="URL",
              help="Origin the site's pages are served from, e.g. https://staging.example "
                   "(repeatable; '*' allows any).")
@click.option("--record-inputs", is_flag=True,
              help="Store what visitors type (password fields stay masked). By default the "
                   "collector masks every input value before storing it, whatever the page sends.")
@site_policy_options
@refusals
def sites_add_command(db_path: Path, name: str, origins: tuple[str, ...], record_inputs: bool,
                      max_session_mb: float | None, max_session_events: int | None) -> None:
    """Register a site and print its key, for the snippet's data-site attribute."""
    from sessionheat.web import add_site

    try:
        key = add_site(open_store(db_path), name, origins,
                       **site_policy(max_session_mb, max_session_events, record_inputs))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)  # alone on stdout, for scripts
    click.echo(f"Record {name}'s visitors: add this tag to its pages, with the address `sessionheat serve`"
               f" is reached at (by default http://127.0.0.1:8000):\n"
               f'  <script src="http://127.0.0.1:8000/snippet.js" data-site="{key}" async></script>', err=True)


@sites_group.command("set")
@db_option(existing=True)
@click.argument("name")
@click.option("--mask-inputs/--record-inputs", "mask_inputs", default=None,
              help="Mask every input value before storing it (the default), or store what "
                   "visitors type (password fields stay masked).")
@site_policy_options
@refusals
def sites_set_command(db_path: Path, name: str, mask_inputs: bool | None, max_session_mb: float | None,
                      max_session_events: int | None) -> None:
    """Change a site's policy; a running `serve` applies it within a few seconds."""
    policy = site_policy(max_session_mb, max_session_events,
                         None if mask_inputs is None else not mask_inputs)
    if not policy:
        raise click.UsageError("give at least one setting to change")
    store = open_store(db_path)
    store.set_site(name, **policy)
    site = next(s for s in store.list_sites() if s["name"] == name)
    click.echo(_describe_policy(site))


def _describe_policy(site: dict[str, Any]) -> str:
    def cap(value: int | None, unit: str, scale: float = 1) -> str:
        return "default" if value is None else "none" if value == 0 else f"{value / scale:g} {unit}"

    return (f"{site['name']}: inputs {'recorded (passwords masked)' if site['record_inputs'] else 'masked'}"
            f", session cap {cap(site['max_session_bytes'], 'MiB', 1024 * 1024)}"
            f" and {cap(site['max_session_events'], 'events')}")


@sites_group.command("list")
@db_option(existing=True)
@json_option
def sites_list_command(db_path: Path, as_json: bool) -> None:
    """List the registered sites: key, allowed origins, and policy (inputs, session caps)."""
    sites = open_store(db_path).list_sites()
    if as_json:
        click.echo(json.dumps(sites, indent=2))
        return
    for site in sites:
        policy = _describe_policy(site).split(": ", 1)[1]
        click.echo(f"{site['name']}\t{site['key']}\t{' '.join(site['origins'])}\t{policy}")


def _refused_from_now_on() -> str:
    """What happens to a key the store dropped, said once for `sites remove` and `rotate-key`."""
    from sessionheat.web import SITE_KEYS_TTL_S

    return f"refused from now on (a running `sessionheat serve` notices within {SITE_KEYS_TTL_S:g} s)"


@sites_group.command("remove")
@db_option(existing=True)
@click.argument("name")
@refusals
def sites_remove_command(db_path: Path, name: str) -> None:
    """Stop accepting sessions from a site: its key is refused from now on. What it recorded stays."""
    kept = open_store(db_path).remove_site(name)
    click.echo(f"removed {name}: its key is {_refused_from_now_on()}; "
               f"its {counted(kept, 'recorded session')} stay")


@sites_group.command("rotate-key")
@db_option(existing=True)
@click.argument("name")
@refusals
def sites_rotate_key_command(db_path: Path, name: str) -> None:
    """Give a site a new key and refuse its old one (a key that leaked, or went to too many pages)."""
    key = open_store(db_path).rotate_site_key(name)
    click.echo(key)  # alone on stdout, for scripts
    click.echo(f"{name}'s old key is {_refused_from_now_on()}: put the new one in its pages' snippet tag,"
               f' data-site="{key}"', err=True)


def progress_bars(console: Any) -> Any:
    """Progress bars on `console` (stderr), the same for every long command."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


if __name__ == "__main__":  # pragma: no cover
    main()
