"""The `sessionheat` command: a thin skin over the library.

Each command parses its flags, calls one library function and prints. Stage packages are imported
inside the commands, so `sessionheat --help` loads neither Playwright nor OpenCV. Other packages add
commands through the `sessionheat.commands` entry points (see plugin_commands.py): that is how
`sessionheat demo` arrives, from demo/cli.py, using the shared options of command_options.py. The
commands that run the service for a team (serve, users, sites) are in service_commands.py; those
about a test suite's sessions (coverage, diff) in suite_commands.py; those that look after the
store itself (prune, migrate) in store_commands.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from plumbing.vocabulary import (
    DEFAULT_VIEWPORT,
    HEATMAP_KINDS,
    counted,
)

from sessionheat import __version__
from sessionheat.command_options import (
    GoalParam,
    ViewportParam,
    WordChoice,
    cluster_option,
    db_option,
    json_option,
    open_store,
    parse_properties,
    progress_bars,
    refusals,
)
from sessionheat.plugin_commands import PluginGroup
from sessionheat.service_commands import serve_command, sites_group, users_group
from sessionheat.store_commands import migrate_command, prune_command
from sessionheat.suite_commands import coverage_command, diff_command


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
def record_command(db_path: Path | str, url: str, journey_file: Path | None, n_sessions: int,
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
def sessions_command(db_path: Path | str, as_json: bool, limit: int) -> None:
    """List recorded sessions."""
    rows = open_store(db_path).list_sessions(limit=limit)
    if as_json:
        click.echo(json.dumps([dict(row) for row in rows], indent=2))
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
def export_command(db_path: Path | str, session_id: str, output: Path | None) -> None:
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
def import_command(db_path: Path | str, file: Any, session_id: str | None, properties: tuple[str, ...]) -> None:
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
def replay_command(db_path: Path | str, session_id: str, at_ms: float | None, screenshot: Path | None,
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
              help="Sessions indexed at once on this machine, one process and Chromium each.  "
                   "[default: one per core]")
@cluster_option("Index on the Dask cluster whose scheduler is here (tcp://HOST:8786), one browser "
                "per Dask worker; needs the `cluster` extra. [env SESSIONHEAT_CLUSTER; --workers "
                "indexes here instead]")
def index_command(db_path: Path | str, as_json: bool, rebuild: bool, workers: int | None,
                  cluster: str | None) -> None:
    """Resolve every interaction of sessions not yet indexed to the element it hit."""
    from rich.console import Console

    from heatmap import index_sessions
    from heatmap.index import ClusterError

    ctx = click.get_current_context()
    if cluster is not None and workers is not None:
        if ctx.get_parameter_source("cluster") != click.core.ParameterSource.ENVIRONMENT:
            raise click.UsageError("give --workers (processes on this machine) or --cluster, not both")
        cluster = None  # --workers on the command line beats SESSIONHEAT_CLUSTER
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
        try:
            results = index_sessions(store, rebuild=rebuild, workers=workers, cluster=cluster,
                                     progress=lambda r: bar.advance(task))
        except ClusterError as exc:
            raise click.ClickException(str(exc)) from None
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
@click.option("--goal", "goals", type=GoalParam(), multiple=True,
              help="What converted=yes|no in --segment and --compare means here: url:PATH or "
                   "event:NAME (repeatable: any one counts). Default: each session's site's goals.")
@click.option("--out", "out_png", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="PNG to write.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write placed points, the element table and hits not on this layout.")
@refusals
def heatmap_command(db_path: Path | str, url: str, kind: str, segments: tuple[str, ...],
                    viewport: tuple[int, int] | None, since: str | None, until: str | None,
                    reference: str | None, compare: tuple[str, ...], goals: tuple[Any, ...], out_png: Path,
                    json_path: Path | None) -> None:
    """Draw a heatmap of URL on one reference layout, every hit placed through its element."""
    from heatmap import HeatmapError, Segment, SegmentError, build_compare, build_heatmap, write_compare

    store = open_store(db_path)
    fixed = {"url": url, "viewport_w": viewport[0] if viewport else None, "since": since, "until": until,
             "goals": goals or None}
    try:
        segment = Segment.parse(segments, **fixed)
        if goals and "converted" not in {*segment.properties, *Segment.parse(compare).properties}:
            raise click.UsageError("--goal says what converted=yes|no means: give --segment converted=yes "
                                   "(or no), and perhaps --compare converted=no")
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


main.add_command(serve_command)
main.add_command(users_group)
main.add_command(sites_group)
main.add_command(coverage_command)
main.add_command(diff_command)
main.add_command(prune_command)
main.add_command(migrate_command)


if __name__ == "__main__":  # pragma: no cover
    main()
