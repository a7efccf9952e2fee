"""Call links: `https://host[:port][/prefix]/c/<call id>`, and where their server listens."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from peercall.client.errors import InvalidLink
from peercall.ids import is_call_id

CALL_PATH_SEGMENT = "c"


@dataclass(frozen=True)
class CallLink:
    """A parsed call link: the server's base URL and the call id."""

    base_url: str  # scheme://host[:port][/prefix], no trailing slash
    call_id: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/{CALL_PATH_SEGMENT}/{self.call_id}"

    @property
    def websocket_url(self) -> str:
        """The signaling endpoint: same host and prefix, ws(s) for http(s)."""
        scheme, rest = self.base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"

    @property
    def short_call_id(self) -> str:
        """Enough of the id to tell calls apart in output, not enough to join one."""
        return self.call_id[:6] + "…"


def parse_call_link(link: str) -> CallLink:
    """Reads a call link as the page shows it; raises InvalidLink saying what is wrong."""
    parts = urlsplit(link.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidLink(f"not a call link (expected http(s)://HOST/c/CALL_ID): {link!r}")
    segments = parts.path.rstrip("/").split("/")
    if len(segments) < 3 or segments[-2] != CALL_PATH_SEGMENT:
        raise InvalidLink(f"not a call link (no /c/CALL_ID in it): {link!r}")
    call_id = segments[-1]
    if not is_call_id(call_id):
        raise InvalidLink("the call id in this link is malformed: check that it was copied whole")
    prefix = "/".join(segments[:-2])
    base_url = urlunsplit((parts.scheme, parts.netloc, prefix, "", ""))
    return CallLink(base_url=base_url, call_id=call_id)


def server_base_url(url: str) -> str:
    """A server URL as given by a user (`http://host:8000/`) without its trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidLink(f"not a server URL (expected http(s)://HOST[:PORT]): {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
