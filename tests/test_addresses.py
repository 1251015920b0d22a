"""The address policy: what counts as inside the network, in every spelling a URL can give it."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest

from plumbing.addresses import (
    host_is_internal,
    ip_is_internal,
    parse_ip,
    reachable_origins,
    resolve_host,
    vouched_origins,
)

INSIDE_URLS = [
    "http://127.0.0.1/", "http://127.1/", "http://0x7f.1/", "http://2130706433/", "http://0177.0.0.1/",
    "http://0x7f000001/", "http://127.0.0.1./", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
    "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1%25eth0]/", "http://[fd00::1]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://0/",
    "http://[::]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://localhost:8000/", "http://LOCALHOST/", "http://admin.localhost/", "http://localhost./",
    "http://[::ffff:169.254.169.254]/", "http://198.18.0.1/", "http://192.0.2.1/",
]
OUTSIDE_URLS = ["http://8.8.8.8/", "http://[2606:4700:4700::1111]/", "http://[::ffff:8.8.8.8]/",
                "http://93.184.216.34:8080/", "http://134744072/", "http://staging.example/",
                "http://localhost.example/", "http://1.2.3.example/"]


@pytest.mark.parametrize("url", INSIDE_URLS)
def test_inside_addresses_in_any_spelling_are_internal(url):
    assert host_is_internal(urlsplit(url).hostname or "")


@pytest.mark.parametrize("url", OUTSIDE_URLS)
def test_public_addresses_and_names_are_not_internal_by_name(url):
    assert not host_is_internal(urlsplit(url).hostname or "")


@pytest.mark.parametrize("host, ip", [("0x7f.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("127.1", "127.0.0.1"),
                                      ("0177.0.0.1", "127.0.0.1"), ("10.0x10.1", "10.16.0.1"), ("0x", "0.0.0.0"),
                                      ("[::ffff:127.0.0.1]", "::ffff:7f00:1"), ("1.2.3.4.", "1.2.3.4")])
def test_ip_literals_are_read_as_browsers_read_them(host, ip):
    assert parse_ip(host) == ipaddress.ip_address(ip)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "09.1.1.1", "1.2.3.0x100", "", "a..b",
                                  "4294967296", "[nonsense]"])
def test_names_and_malformed_numbers_are_not_ip_literals(host):
    assert parse_ip(host) is None


def test_metadata_and_cgnat_are_internal_but_public_space_is_not():
    assert ip_is_internal(ipaddress.ip_address("169.254.169.254"))
    assert ip_is_internal(ipaddress.ip_address("100.127.255.255"))
    assert not ip_is_internal(ipaddress.ip_address("100.128.0.1"))
    assert not ip_is_internal(ipaddress.ip_address("2a00:1450:4001::1"))


def test_localhost_resolves_inside():
    assert resolve_host("localhost", 80) and all(ip_is_internal(ip) for ip in resolve_host("localhost", 80))
    assert resolve_host("0x7f.1", 80) == [ipaddress.ip_address("127.0.0.1")]
    assert resolve_host("no-such-host.invalid", 80) == []


def test_only_trusted_paths_and_explicit_site_origins_vouch():
    recorded = {"http://127.0.0.1:9997", "https://shop.example"}
    registered = {"evil": ["*"], "shop": ["https://shop.example", "http://127.0.0.1:9997"], "any": ["*"]}
    assert vouched_origins("evil", registered, recorded) == frozenset()
    assert vouched_origins("shop", registered, recorded) == recorded
    assert vouched_origins("http://127.0.0.1:9997", registered, recorded) == recorded  # record()
    assert vouched_origins("import", registered, recorded) == recorded
    assert vouched_origins("", registered, recorded) == recorded  # the Python API's create_session
    assert vouched_origins("removed-site", registered, recorded) == frozenset()
    # A registered name always means the collector, even one that looks like a trusted path.
    assert vouched_origins("import", {"import": ["*"]}, recorded) == frozenset()


def test_players_list_only_origins_that_stay_outside_unless_vouched():
    origins = ["http://127.0.0.1:9997", "http://localhost:1", "https://shop.example", "javascript:x", "http://0x7f.1:2"]
    assert reachable_origins(origins, []) == ["https://shop.example"]
    assert reachable_origins(origins, ["http://127.0.0.1:9997"]) == ["http://127.0.0.1:9997", "https://shop.example"]
