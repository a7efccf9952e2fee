"""Who a WebSocket client is, when a reverse proxy stands in front of us.

uvicorn rewrites the client of HTTP requests from X-Forwarded-For (its proxy
headers middleware, given `trusted_proxies`); the signaling socket is not served
through uvicorn's ASGI path (see `front_door.py`), so the same rule is applied here:
the header is believed only from a trusted proxy, and the client is the rightmost
address in it that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The operator's `trusted_proxies`: addresses, networks (CIDR), or "*"."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = [entry.strip() for entry in entries if entry.strip()]
        self.trust_all = "*" in entries
        self.networks: list[Network] = []
        self.names: set[str] = set()  # not addresses (e.g. a Unix socket's name)
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry)

    def __bool__(self) -> bool:
        return self.trust_all or bool(self.networks or self.names)

    def trusts(self, host: str) -> bool:
        if self.trust_all or host in self.names:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address: `peer` (the socket's), unless `peer` is a trusted
        proxy that says who it forwards for (all X-Forwarded-For header values)."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer
