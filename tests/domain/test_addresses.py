"""Client addresses: trusted proxies, forwarded addresses, and throttle keys."""

from __future__ import annotations

import pytest

from contacthub.domain.addresses import (
    forwarded_client,
    parse_address,
    parse_networks,
    throttle_key,
)

PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 2001:db8::1 ", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", None),
        ("a" * 100, None),
        ('evil - "GET /admin HTTP/1.1" 200', None),
        ("", None),
        ("203.0.113.7\u0085", None),
    ],
)
def test_an_address_is_parsed_or_refused(text: str, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (None if parsed is None else str(parsed)) == expected


def test_a_bad_trusted_proxy_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks("127.0.0.1, 10.0.0.300")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", None),  # not a trusted peer: header ignored
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "198.51.100.2, 198.51.100.1", "198.51.100.1"),  # rightmost untrusted
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # through two proxies
        ("127.0.0.1", "garbage, 10.1.2.3", "10.1.2.3"),  # stops at the last trusted hop
        ("127.0.0.1", "a" * 500, "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_the_client_behind_trusted_proxies(
    peer: str, forwarded_for: str, expected: str | None
) -> None:
    found = forwarded_client(peer, forwarded_for, PROXIES)
    assert (None if found is None else str(found)) == expected


def test_no_trusted_proxy_means_the_peer_is_the_client() -> None:
    assert forwarded_client("127.0.0.1", "198.51.100.1", ()) is None


def test_ipv6_addresses_are_throttled_by_their_64() -> None:
    assert throttle_key("2001:db8:1:2:aaaa::1") == throttle_key("2001:db8:1:2:bbbb::9")
    assert throttle_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")
    assert throttle_key("203.0.113.7") == "203.0.113.7"
    assert throttle_key("unknown") == "unknown"
    assert len(throttle_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) <= 64
