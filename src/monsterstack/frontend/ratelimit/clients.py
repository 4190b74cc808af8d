"""Who the client is: the TCP peer, or, behind trusted proxies, the nearest untrusted hop.

When the peer is a trusted proxy (TRUSTED_PROXIES, e.g. the ingress controller), the client is
the first untrusted address of X-Forwarded-For read from the right, so a client cannot pick
its own identity by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The peer, or the nearest untrusted hop of X-Forwarded-For when the peer is trusted."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k.lower() == b"x-forwarded-for")
    for hop in reversed(forwarded.decode("latin-1").split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed chain: trust nothing beyond the last good hop
        address = hop
        if not _is_trusted(hop, trusted):
            return hop
    return address


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)
