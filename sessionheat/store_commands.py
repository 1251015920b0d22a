"""Commands that look after the store itself: retention (`prune`) and moving house (`migrate`).
Thin skins over `SessionStore.prune` and `plumbing.store.copy_store`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from plumbing.user_input import InputError, parse_age
from plumbing.vocabulary import counted

from sessionheat.command_options import db_option, json_option, open_store, progress_bars, shown_location


@click.command("prune")
@db_option(existing=True)
@click.option("--older-than", "older_than", required=True, metavar="AGE",
              help="Remove the sessions whose last event is older than this: 36h, 30d, 8w.")
@click.option("--site", default=None, help="Only the sessions of this site (a collector site's name, or "
                                           "the origin `record` stores).")
@click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")
@json_option
def prune_command(db_path: Path | str, older_than: str, site: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete old sessions with their chunks, pageviews, hits and named events, and the blobs no
    session uses any more."""
    try:
        age_s = parse_age(older_than, "--older-than")
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    cutoff_ms = int((time.time() - age_s) * 1000)
    report = open_store(db_path).prune(cutoff_ms, site=site, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"dry_run": report.dry_run, "sessions": report.sessions, "rows": report.rows,
                               "blobs": report.blobs, "blob_bytes": report.blob_bytes,
                               "asset_urls": report.asset_urls, "assets": report.assets}, indent=1))
        return
    verb = "would remove" if dry_run else "removed"
    rows = ", ".join(f"{n} {table}" for table, n in sorted(report.rows.items()) if n)
    click.echo(f"{verb} {counted(report.sessions, 'session')} older than {older_than}"
               + (f" of site {site}" if site is not None else "") + (f" ({rows})" if rows else ""))
    click.echo(f"{verb} {counted(report.blobs, 'unused blob')} ({report.blob_bytes / 1024:,.0f} KiB), "
               f"{counted(report.asset_urls, 'replay asset')} of sites with no session left "
               f"({counted(report.assets, 'body', 'bodies')})")


@click.command("migrate")
@db_option(existing=True)
@click.option("--to", "target", required=True, metavar="URL",
              help="The store to copy into: a postgresql://USER@HOST/DB URL (or another SQLite file).")
@click.option("--no-check", is_flag=True, help="Skip reading every session back from both stores.")
def migrate_command(db_path: Path | str, target: str, no_check: bool) -> None:
    """Copy this store (sessions, chunks as stored, blobs, sites, goals, users...) into another,
    then check row counts and each session's export, byte for byte. Safe to run again."""
    from rich.console import Console

    from plumbing.store import copy_store

    if str(target) == str(db_path):
        raise click.BadParameter("the store to copy into is the store itself", param_hint="--to")
    source, dest = open_store(db_path), open_store(target)
    with progress_bars(Console(stderr=True)) as bars:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done)

        try:
            report = copy_store(source, dest, check=not no_check, progress=progress)
        except Exception as exc:  # the database refused a row: say which, keep what is copied
            if type(exc).__module__.partition(".")[0] not in ("psycopg", "sqlite3"):
                raise
            raise click.ClickException(f"the copy stopped: {exc}. What was copied stays; the source is "
                                       "untouched; run it again once that is fixed") from None
    click.echo(f"copied {counted(report.sessions, 'session')} and {counted(report.blobs, 'blob')} "
               f"into {shown_location(target)}")
    for table, n in sorted(report.rows.items()):
        click.echo(f"  {table}: {n}")
    if report.kept:
        click.echo(f"left {counted(len(report.kept), 'session')} as the target has them: it holds chunks "
                   f"the source lacks (recorded there since): {', '.join(report.kept[:5])}"
                   + (" ..." if len(report.kept) > 5 else ""))
    if not report.ok:
        shown = report.mismatched[:10]
        raise click.ClickException("the copy does not match its source: " + ", ".join(shown)
                                   + (f" and {len(report.mismatched) - len(shown)} more" if len(report.mismatched) > 10 else ""))
    if not no_check:
        click.echo("checked: row counts match, and every session exports byte for byte the same")
