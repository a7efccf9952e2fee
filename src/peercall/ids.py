"""Random identifiers. Call ids are secrets: whoever knows one can join the call.

128 random bits (22 URL-safe characters) for calls, so they can be neither guessed nor
enumerated; 96 bits for peer ids, which only need to be unique within a call and not
forgeable by another member.
"""

import base64
import os
import re
import threading

CALL_ID_BYTES = 16
PEER_ID_BYTES = 12
# token_urlsafe(n) yields ceil(4n/3) characters of [A-Za-z0-9_-] with no padding.
CALL_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
PEER_ID_PATTERN = r"^[A-Za-z0-9_-]{16}$"
# Where a signal can go: a peer id, or "next" (whoever joins next; see the protocol).
TARGET_PATTERN = r"^(?:[A-Za-z0-9_-]{16}|next)$"
_CALL_ID_RE = re.compile(CALL_ID_PATTERN)
# Random bytes read from the operating system at a time (`RandomPool`).
RANDOM_POOL_BYTES = 4096


class RandomPool:
    """The operating system's random bytes (`os.urandom`, as `secrets` reads them),
    read a page at a time and handed out once each.

    Why: every join makes a peer id and a resume token, and `secrets` reads the
    kernel for each (a system call): a tenth of the system calls of a call's set-up
    (benchmarks/README.md). The bytes are the same kernel randomness; none is handed
    out twice (a lock for threads, and a child process forgets what its parent read)."""

    def __init__(self, size: int = RANDOM_POOL_BYTES) -> None:
        self.size = size
        self.forget()

    def forget(self) -> None:
        """Also in a child process: its lock is new (another thread of the parent
        may have held the old one when it forked)."""
        self.lock = threading.Lock()
        self.data = b""
        self.used = 0

    def take(self, count: int) -> bytes:
        if count > self.size:
            return os.urandom(count)
        with self.lock:
            if self.used + count > len(self.data):
                self.data = os.urandom(self.size)
                self.used = 0
            start = self.used
            self.used = start + count
            return self.data[start : self.used]


_random_pool = RandomPool()
os.register_at_fork(after_in_child=_random_pool.forget)


def token_urlsafe(count: int) -> str:
    """As `secrets.token_urlsafe`: `count` random bytes in URL-safe base64, unpadded."""
    return base64.urlsafe_b64encode(_random_pool.take(count)).rstrip(b"=").decode("ascii")


def new_call_id() -> str:
    return token_urlsafe(CALL_ID_BYTES)


def new_peer_id() -> str:
    return token_urlsafe(PEER_ID_BYTES)


def is_call_id(text: str) -> bool:
    return _CALL_ID_RE.fullmatch(text) is not None
