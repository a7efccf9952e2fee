"""The ICE servers each member is told to use, with TURN credentials made for them.

TURN credentials follow the "TURN REST API" that coturn checks with `use-auth-secret`:
the username is `<expiry unix time>:<peer id>` and the password is
base64(HMAC-SHA1(secret, username)). The TURN server needs no database of users and
refuses a credential once its time is up, so one that leaks stops working by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from peercall.config import IceServer, Settings


def turn_rest_credential(secret: str, user: str, expires_at: int) -> tuple[str, str]:
    """(username, password) valid until `expires_at` for a TURN server sharing `secret`."""
    username = f"{expires_at}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(settings: Settings, peer_id: str, now: float | None = None) -> list[IceServer]:
    """ICE servers for `peer_id`'s peer connections; fresh TURN credentials on each call.
    May be empty (LAN, tests)."""
    servers = list(settings.ice_servers)
    if not settings.turn_urls:
        return servers
    if settings.turn_secret:
        expires_at = int(now if now is not None else time.time()) + settings.turn_credential_seconds
        username, password = turn_rest_credential(settings.turn_secret, peer_id, expires_at)
    else:
        username, password = settings.turn_username, settings.turn_password
    servers.append(IceServer(urls=list(settings.turn_urls), username=username, credential=password))
    return servers


def ice_servers_expire_in(settings: Settings) -> int | None:
    """Seconds the credentials of `ice_servers_for` last; None when they never expire
    (no TURN server, or a static username and password)."""
    if settings.turn_urls and settings.turn_secret:
        return settings.turn_credential_seconds
    return None
