"""Which network addresses count as inside, and which origins a session vouches for reaching there.

Recorded content is someone else's: a site key is public, so anyone can send a session whose pages
claim to come from `http://127.0.0.1:9997/` or `http://169.254.169.254/`. A replay (or a player in a
viewer's browser) that fetched those would carry a request from inside the network on an outsider's
behalf. This module is the one place that says what "inside" is, so the replay's fetcher, the
offline player and the web UI's player all refuse the same things.

Inside (`ip_is_internal`): every address that is not globally routable (loopback, RFC 1918, link
local including the 169.254.169.254 metadata service, CGNAT 100.64/10, unique local fc00::/7,
unspecified, reserved, documentation), multicast, and IPv6 forms that carry such an IPv4 address
(mapped, compatible, 6to4, Teredo, NAT64). Host names `localhost` and `*.localhost` are inside by
name; IPv4 literals are read the way browsers read them (`0x7f.1`, `2130706433`, `127.1`).

Vouched (`vouched_origins`): an origin may be inside only when the session came by a trusted path
(see there); every other session's origins must be outside, checked on the address actually
connected to, not only on the name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

IMPORT_SITE = "import"  # what `SessionStore.import_events` stores as a session's site
ANY_ORIGIN = "*"  # a collector site that accepts pages from anywhere vouches for none of them
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def ip_is_internal(ip: IPAddress) -> bool:
    """True for an address a fetch on a recorded page's behalf must not reach (see module doc)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address itself
            return ip_is_internal(ip.ipv4_mapped)
        embedded = [ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64 or int(ip) >> 32 == 0:  # NAT64, and ::a.b.c.d (deprecated "compatible")
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(v4 is not None and ip_is_internal(v4) for v4 in embedded):
            return True
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local
            or ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _ipv4_number(part: str) -> int | None:
    """One dotted part as the URL standard reads it: 0x hex, leading-0 octal, or decimal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if digits == "":
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` as an IPv4 address the way browsers parse it (`0x7f.1`, `2130706433`, `127.1`, `0177.0.0.1`),
    or None when it is not one (a name)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # "127.0.0.1." is 127.0.0.1
    if not 1 <= len(parts) <= 4 or any(p == "" for p in parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):  # type: ignore[operator]
        return None
    value = last
    for k, n in enumerate(leading):
        value += n << (8 * (3 - k))  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


def parse_ip(host: str) -> IPAddress | None:
    """An IP literal host (IPv6 with or without brackets and zone, or any browser IPv4 form), or None."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4(host)


def host_is_internal(host: str) -> bool:
    """True when the host names the inside by itself: `localhost`, `*.localhost`, an internal IP
    literal, or nothing. A DNS name is not judged here: see `resolve_host`."""
    host = host.strip().lower().rstrip(".")
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    ip = parse_ip(host)
    return ip is not None and ip_is_internal(ip)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now (an IP literal resolves to itself); [] if none."""
    ip = parse_ip(host)
    if ip is not None:
        return [ip]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def origin_host_port(origin: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) origin or URL, the port defaulted by scheme; None if not one."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def vouched_origins(site: str, registered: Mapping[str, Iterable[str]],
                    recorded: Iterable[str]) -> frozenset[str]:
    """The origins of a session (`recorded`: its pages' origins) it may fetch from when inside.

    Which path stored a session is read from its `site`, in this order, so the rule is the same
    everywhere and a collector site can never pass for a trusted path:
    - `site` names a registered collector site (`registered`: name -> its origins): the snippet
      sent it, anyone with the public key could have. Vouched: only origins that site lists
      explicitly (never through `*`).
    - `site` is "import" (`sessionheat import`), "" (sessions created through the Python API), or
      contains "://" (`recorder.record()` stores the origin it recorded): an operator or our own
      browser chose these pages. Vouched: all the session's recorded origins.
    - anything else is a collector site that has since been removed: nothing vouched.
    Site names with "://", empty ones and "import" are refused when a site is registered
    (`SessionStore.add_site`), so a collector session cannot look like a trusted one.
    """
    recorded = frozenset(recorded)
    if site in registered:
        return recorded & frozenset(o for o in registered[site] if o != ANY_ORIGIN)
    if site in ("", IMPORT_SITE) or "://" in site:
        return recorded
    return frozenset()


def reachable_origins(origins: Iterable[str], vouched: Iterable[str], *, resolve: bool = False) -> list[str]:
    """`origins` without those that lead inside and are not vouched for, sorted: what a player's
    CSP may list. Names are judged by themselves; with `resolve`, DNS names are also looked up
    (a best effort: the viewer's browser resolves again, later)."""
    vouched = frozenset(vouched)
    kept = []
    for origin in origins:
        where = origin_host_port(origin)
        if where is None:
            continue
        if origin not in vouched:
            host, port = where
            if host_is_internal(host):
                continue
            if resolve and parse_ip(host) is None and any(ip_is_internal(ip) for ip in resolve_host(host, port)):
                continue
        kept.append(origin)
    return sorted(kept)
