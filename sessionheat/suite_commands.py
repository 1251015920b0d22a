"""The commands about a test suite's sessions (recorded by `pytest --sessionheat`): coverage, which
visitors' clicks no test makes, and diff, where two runs of a test part. Thin skins over
heatmap.coverage and heatmap.session_diff."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plumbing.vocabulary import PROP_TEST, counted

from sessionheat.command_options import db_option, open_store, refusals


@click.command("coverage")
@db_option(existing=True)
@click.option("--url", required=True, help="Page URL or path (query ignored), e.g. /pricing.html.")
@click.option("--tests", "tests", multiple=True, metavar="KEY=VALUE",
              help=f"Which test sessions (repeatable), e.g. test_outcome=passed; only sessions with a "
                   f"`{PROP_TEST}` property count.  [default: all of them]")
@click.option("--visitors", "visitors", multiple=True, metavar="KEY=VALUE",
              help=f"Which visitors' sessions (repeatable), e.g. device=mobile; sessions with a `{PROP_TEST}` "
                   "property never count.  [default: all of them]")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Exit 1 when tested elements hold less than this share of visitors' clicks.")
@click.option("--out", "out_png", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a PNG: visitors' clicks on the reference layout, untested elements outlined.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the element table as JSON (for CI).")
@refusals
def coverage_command(db_path: Path | str, url: str, tests: tuple[str, ...], visitors: tuple[str, ...],
                     fail_under: float | None, out_png: Path | None, json_path: Path | None) -> None:
    """Which elements of URL visitors click, most clicked first, and whether some test clicks them."""
    from heatmap import HeatmapError, Segment, SegmentError
    from heatmap.coverage import build_coverage

    store = open_store(db_path)
    try:
        result = build_coverage(store, url, tests=Segment.parse(tests), visitors=Segment.parse(visitors))
    except (HeatmapError, SegmentError) as exc:
        raise click.ClickException(str(exc)) from None
    result.write(out_png, json_path)
    click.echo(f"{url}: {result.percent:.1f}% of visitors' clicks are on elements a test clicks "
               f"({counted(result.n_visitor_sessions, 'visitor session')}, "
               f"{counted(result.n_test_sessions, 'test session')})")
    for element in result.elements:
        mark = "tested  " if element.tested else "UNTESTED"
        click.echo(f"  {mark} {element.visitor_clicks:>6,} clicks  {element.label or element.tag}  "
                   f"[{element.element_key}]")
    for path in (out_png, json_path):
        if path:
            click.echo(f"wrote {path}")
    if fail_under is not None and result.percent < fail_under:
        click.echo(f"coverage {result.percent:.1f}% is under --fail-under {fail_under:g}%", err=True)
        raise SystemExit(1)


@click.command("diff")
@db_option(existing=True)
@click.argument("session_a")
@click.argument("session_b")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for the screenshot of each side (diff-a.png, diff-b.png).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@refusals
def diff_command(db_path: Path | str, session_a: str, session_b: str, out_dir: Path, as_json: bool) -> None:
    """Where two runs of the same steps part: the first moment and element the page showed differently."""
    from heatmap.session_diff import diff_sessions

    store = open_store(db_path)
    for sid in (session_a, session_b):
        if store.get_session(sid) is None:
            raise click.BadParameter(f"no session {sid}", param_hint="SESSION_A/SESSION_B")
    result = diff_sessions(store, session_a, session_b, out_dir=out_dir)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    found = result.divergence
    if found is None:
        click.echo(f"no difference in {counted(result.steps_compared, 'step')} compared")
        return
    click.echo(f"first difference at step {found.step + 1} of {result.steps_compared}: "
               f"A {found.moment_a.what} ({found.moment_a.t:,} ms), B {found.moment_b.what} "
               f"({found.moment_b.t:,} ms)")
    click.echo(f"  element: {found.element} ({found.label})")
    click.echo(f"  {found.change}")
    click.echo(f"  screenshots: {found.screenshot_a} (A), {found.screenshot_b} (B)")
