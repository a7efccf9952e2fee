"""Random identifiers. Call ids are secrets: whoever knows one can join the call.

128 random bits (22 URL-safe characters) for calls, so they can be neither guessed nor
enumerated; 96 bits for peer ids, which only need to be unique within a call and not
forgeable by another member.
"""

import re
import secrets

CALL_ID_BYTES = 16
PEER_ID_BYTES = 12
# token_urlsafe(n) yields ceil(4n/3) characters of [A-Za-z0-9_-] with no padding.
CALL_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
PEER_ID_PATTERN = r"^[A-Za-z0-9_-]{16}$"
# Where a signal can go: a peer id, or "next" (whoever joins next; see the protocol).
TARGET_PATTERN = r"^(?:[A-Za-z0-9_-]{16}|next)$"
_CALL_ID_RE = re.compile(CALL_ID_PATTERN)


def new_call_id() -> str:
    return secrets.token_urlsafe(CALL_ID_BYTES)


def new_peer_id() -> str:
    return secrets.token_urlsafe(PEER_ID_BYTES)


def is_call_id(text: str) -> bool:
    return _CALL_ID_RE.fullmatch(text) is not None
