"""The commands that run sessionheat as a service for a team: `serve`, and the `users` and `sites`
it answers to. Registered on the main group by cli.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from plumbing.vocabulary import (
    MIB,
    SESSION_BYTES_CAP,
    SESSION_EVENTS_CAP,
    counted,
)

from sessionheat.command_options import (
    F,
    GoalParam,
    WordChoice,
    cluster_option,
    db_option,
    json_option,
    open_store,
    refusals,
    shown_location,
)


@click.command("serve")
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
@cluster_option("Index new sessions (the explorer's \"Index\" button) on the Dask cluster whose "
                "scheduler is here (tcp://HOST:8786) instead of in this process; needs the `cluster` "
                "extra. [env SESSIONHEAT_CLUSTER]")
def serve_command(db_path: Path | str, host: str, port: int, role: str, allowed_hosts: tuple[str, ...],
                  trusted_proxies: tuple[str, ...], proxy_user_header: str, site_mb_per_s: float,
                  cluster: str | None) -> None:
    """Serve the web UI, the recording snippet (/snippet.js) and the collector that stores sessions."""
    import uvicorn

    from sessionheat.web import Limits, create_app
    from sessionheat.web.access import AccessPolicy, is_loopback
    from sessionheat.web.auth import LocalLink

    if cluster is not None and role != "collector":
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise click.ClickException("--cluster needs Dask distributed: pip install 'sessionheat[cluster]'")
    rate = int(site_mb_per_s * 1024 * 1024)
    limits = Limits(site_bytes_per_s=rate, site_burst_bytes=16 * rate)
    store = open_store(db_path)
    link = None
    if role != "collector" and store.count_users() == 0 and not trusted_proxies:
        if not is_loopback(host):
            raise click.ClickException(
                f"no user can log in yet, and {host} is reachable from other machines: create one "
                f"first with `sessionheat users add NAME --role admin --db {shown_location(db_path)}`, or listen on "
                "127.0.0.1, or serve only the collector there (--role collector)")
        link = LocalLink()
    access = AccessPolicy.for_listener(host, allowed_hosts, trusted_proxies=frozenset(trusted_proxies),
                                       proxy_user_header=proxy_user_header.lower(), local_link=link)
    shown = host if is_loopback(host) or host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
    parts = {"all": f"UI at {base}/ , snippet at {base}/snippet.js", "ui": f"UI at {base}/",
             "collector": f"collector only: snippet at {base}/snippet.js"}[role]
    click.echo(f"sessionheat: {parts}, sessions in {shown_location(db_path)}", err=True)
    if cluster is not None and role != "collector":
        click.echo(f"sessionheat: new sessions are indexed on the Dask cluster at {cluster}", err=True)
    if link is not None:
        click.echo(f"sessionheat: no user exists yet; open this one-time link to log in as admin:\n"
                   f"    {base}/login/link?token={link.token}\n"
                   f"  (to keep access, create a user: sessionheat users add NAME --role admin)", err=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        click.echo("sessionheat: only requests for loopback names are answered; add the names people "
                   "and pages use to reach this server with --allowed-host NAME", err=True)
    uvicorn.run(create_app(store, limits=limits, own_process=True, role=role, access=access, cluster=cluster),
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


@click.group("users")
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
def users_add_command(db_path: Path | str, name: str, role: str, password_stdin: bool, no_password: bool) -> None:
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
def users_list_command(db_path: Path | str, as_json: bool) -> None:
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
def users_remove_command(db_path: Path | str, name: str) -> None:
    """Remove a user: its logins and API tokens stop working at once."""
    open_store(db_path).remove_user(name)
    click.echo(f"removed {name}; its logins and API tokens no longer work", err=True)


@users_group.command("passwd")
@db_option(existing=True)
@click.argument("name")
@password_options
@refusals
def users_passwd_command(db_path: Path | str, name: str, password_stdin: bool) -> None:
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
def users_token_command(db_path: Path | str, name: str, label: str, revoke: bool) -> None:
    """Print a new API token for scripts (`Authorization: Bearer TOKEN`); it is shown only once."""
    from sessionheat.web.auth import new_api_token

    store = open_store(db_path)
    if revoke:
        n = store.revoke_api_tokens(name)
        click.echo(f"revoked {counted(n, 'API token')} of {name}", err=True)
        return
    click.echo(new_api_token(store, name, label))  # alone on stdout, for scripts


@click.group("sites")
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
    fn = click.option("--goal", "goals", type=GoalParam(), multiple=True,
                      help="What counts as converting, for the `converted=yes|no` segment: url:PATH "
                           "(a page reached, * for any part, e.g. url:/signup/done) or event:NAME (a "
                           "custom event fired, e.g. event:signup). Repeatable: any one counts. "
                           "Applies to sessions recorded before as well.")(fn)
    return fn


def site_policy(max_session_mb: float | None, max_session_events: int | None,
                record_inputs: bool | None, remember_visitors: bool | None = None) -> dict[str, Any]:
    """The store's settings for the options given (those left out are not changed)."""
    policy: dict[str, Any] = {"record_inputs": record_inputs, "remember_visitors": remember_visitors,
                              "max_session_events": max_session_events,
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
@click.option("--remember-visitors", is_flag=True,
              help="Let the snippet keep a visitor note in each visitor's browser (localStorage, this "
                   "site's origins only), so sessions say visitor=new|returning. Off by default: "
                   "nothing is kept.")
@site_policy_options
@refusals
def sites_add_command(db_path: Path | str, name: str, origins: tuple[str, ...], record_inputs: bool,
                      remember_visitors: bool, max_session_mb: float | None, max_session_events: int | None,
                      goals: tuple[Any, ...]) -> None:
    """Register a site and print its key, for the snippet's data-site attribute."""
    from sessionheat.web import add_site

    store = open_store(db_path)
    try:
        key = add_site(store, name, origins,
                       **site_policy(max_session_mb, max_session_events, record_inputs, remember_visitors))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if goals:
        store.set_goals(name, goals)
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
@click.option("--remember-visitors/--forget-visitors", "remember_visitors", default=None,
              help="Let the snippet keep a visitor note in visitors' browsers (visitor=new|returning), "
                   "or not (the default): then snippets remove the notes they kept.")
@click.option("--no-goals", is_flag=True, help="The site names no goal any more (sessions lose `converted`).")
@site_policy_options
@refusals
def sites_set_command(db_path: Path | str, name: str, mask_inputs: bool | None, remember_visitors: bool | None,
                      no_goals: bool, max_session_mb: float | None, max_session_events: int | None,
                      goals: tuple[Any, ...]) -> None:
    """Change a site's policy; a running `serve` applies it within a few seconds. --goal replaces
    the site's goals."""
    policy = site_policy(max_session_mb, max_session_events,
                         None if mask_inputs is None else not mask_inputs, remember_visitors)
    if goals and no_goals:
        raise click.UsageError("give --goal or --no-goals, not both")
    if not policy and not goals and not no_goals:
        raise click.UsageError("give at least one setting to change")
    store = open_store(db_path)
    store.set_site(name, **policy)
    if goals or no_goals:
        store.set_goals(name, goals)
    site = next(s for s in store.list_sites() if s["name"] == name)
    click.echo(_describe_policy(site))


def _describe_policy(site: dict[str, Any]) -> str:
    def cap(value: int | None, unit: str, scale: float = 1) -> str:
        return "default" if value is None else "none" if value == 0 else f"{value / scale:g} {unit}"

    return (f"{site['name']}: inputs {'recorded (passwords masked)' if site['record_inputs'] else 'masked'}"
            f", session cap {cap(site['max_session_bytes'], 'MiB', 1024 * 1024)}"
            f" and {cap(site['max_session_events'], 'events')}"
            f", visitor notes {'kept' if site['remember_visitors'] else 'not kept'}"
            f", goals {' '.join(site['goals']) or 'none'}")


@sites_group.command("list")
@db_option(existing=True)
@json_option
def sites_list_command(db_path: Path | str, as_json: bool) -> None:
    """List the registered sites: key, allowed origins, and policy (inputs, session caps, visitor
    notes, goals)."""
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
def sites_remove_command(db_path: Path | str, name: str) -> None:
    """Stop accepting sessions from a site: its key is refused from now on. What it recorded stays."""
    kept = open_store(db_path).remove_site(name)
    click.echo(f"removed {name}: its key is {_refused_from_now_on()}; "
               f"its {counted(kept, 'recorded session')} stay")


@sites_group.command("rotate-key")
@db_option(existing=True)
@click.argument("name")
@refusals
def sites_rotate_key_command(db_path: Path | str, name: str) -> None:
    """Give a site a new key and refuse its old one (a key that leaked, or went to too many pages)."""
    key = open_store(db_path).rotate_site_key(name)
    click.echo(key)  # alone on stdout, for scripts
    click.echo(f"{name}'s old key is {_refused_from_now_on()}: put the new one in its pages' snippet tag,"
               f' data-site="{key}"', err=True)
