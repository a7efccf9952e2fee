"""The ICE servers each member is told to use.

A function of the member, not a constant: TURN servers need credentials made for
each join (TURN REST API), which is where this grows next.
"""

from __future__ import annotations

from peercall.config import IceServer, Settings


def ice_servers_for(settings: Settings, peer_id: str) -> list[IceServer]:
    """ICE servers for `peer_id`'s peer connections; may be empty (LAN, tests)."""
    del peer_id  # Static servers are the same for everybody.
    return list(settings.ice_servers)
