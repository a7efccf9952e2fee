"""Rate limits: token buckets, per connection and per client address. No I/O.

A bucket holds up to `burst` tokens and refills at `rate` per second; each action
takes one. A normal client never notices (a call's set-up is a burst of a few dozen
signals, then a ping every 20 s); a flood is refused message by message with a
`rate-limited` error, and nobody else is slowed down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # most tokens held
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = self.clock()

    def refill(self) -> None:
        """Brings `tokens` up to date."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        """Takes a token if there is one; False means: refuse this action. (`refill`
        written out: this runs for every message a client sends.)"""
        now = self.clock()
        tokens = self.tokens + (now - self.updated) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        self.updated = now
        if tokens >= 1:
            self.tokens = tokens - 1
            return True
        self.tokens = tokens
        return False

    def full(self) -> bool:
        now = self.clock()
        return self.tokens + (now - self.updated) * self.rate >= self.burst


class BucketsByKey:
    """One bucket per key (a client address), forgetting buckets that are full again
    so that memory stays bounded by the clients active lately."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, TokenBucket] = {}

    @classmethod
    def per_minute(cls, count: int, clock: Callable[[], float] = time.monotonic) -> BucketsByKey:
        """`count` actions a minute per key, all of them at once if need be."""
        return cls(rate=count / 60, burst=count, clock=clock)

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._forget_full()
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.take()

    def has_token(self, key: str) -> bool:
        """Whether `take(key)` would succeed now, without taking."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return True
        bucket.refill()
        return bucket.tokens >= 1

    def _forget_full(self) -> None:
        for key in [key for key, bucket in self._buckets.items() if bucket.full()]:
            del self._buckets[key]


class ConnectionCounter:
    """Open connections per client address, with a ceiling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, key: str) -> bool:
        if self._open.get(key, 0) >= self.limit:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def close(self, key: str) -> None:
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)


class FailedLookupGuard:
    """Slows the search for call ids: an address that named calls that do not exist
    `per_minute` times in a minute is refused every lookup, found or not, until its
    bucket refills, so its answers no longer tell existing ids from others."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures = BucketsByKey.per_minute(per_minute, clock)

    def may_look_up(self, address: str) -> bool:
        return self._failures.has_token(address)

    def failed(self, address: str) -> None:
        self._failures.take(address)


class PasscodeGuard:
    """Attempts at a call's passcode, per call and address. Every attempt counts
    (taken before checking), so parallel guesses cannot slip past the limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._attempts = BucketsByKey.per_minute(per_minute, clock)

    def may_try(self, call_key: str, address: str) -> bool:
        return self._attempts.take(f"{call_key} {address}")
