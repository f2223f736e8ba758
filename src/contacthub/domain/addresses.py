"""Client addresses: which proxies are trusted, what a forwarded address may be, and the key
under which an address's failed logins are counted."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# One host usually holds a whole IPv6 /64, so its addresses count as one.
IPV6_THROTTLE_PREFIX = 64
# The most X-Forwarded-For entries read, right to left: a real chain of proxies is short.
MAX_FORWARDED_HOPS = 16


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, ::1` → networks; raises ValueError naming the entry that is not one."""
    networks: list[Network] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as a client or proxy may give it, or None.

    IPv6 zone ids (`fe80::1%eth0`) are refused: they name an interface of the
    sender, are any length, and mean nothing here. An IPv4-mapped IPv6 address
    is its IPv4 address, so one client is never counted under two names.
    """
    text = text.strip(" \t")  # HTTP's whitespace only: str.strip() also takes U+0085
    if not text or len(text) > 45 or "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Iterable[Network]
) -> bool:
    return any(address in network for network in networks)


def forwarded_client(
    peer: str, forwarded_for: str, networks: tuple[Network, ...]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client behind trusted proxies, from the TCP peer and X-Forwarded-For; None to keep
    the peer.

    Read right to left, as each proxy appends the address it was reached from:
    the first entry that is not a trusted proxy is the client. An entry that
    is not an address stops the walk at the last trusted hop, since whatever
    lies left of it was written by the client itself.
    """
    current = parse_address(peer)
    if current is None or not networks or not is_trusted(current, networks):
        return None
    hops = forwarded_for.split(",")[-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return current
        current = address
        if not is_trusted(address, networks):
            return address
    return current


def throttle_key(address: str) -> str:
    """What an address's failures are counted under: the address, or its /64 for IPv6."""
    parsed = parse_address(address)
    if parsed is None:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_THROTTLE_PREFIX), strict=False)
        return str(network)
    return str(parsed)
