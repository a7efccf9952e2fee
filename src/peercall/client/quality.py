"""How well the media gets through with each person, judged as the page judges it
(web/js/quality.js), so that a script hears of a poor connection as a person in the
call sees it on the tile: packets lost either way, or a long round trip."""

from __future__ import annotations

from dataclasses import dataclass

from peercall.client.stats import PeerStats

INTERVAL_SECONDS = 2.0
# Past these over an interval, sound breaks up and pictures freeze.
POOR_LOSS_PERCENT = 5.0
POOR_ROUND_TRIP_MS = 600.0
# A judgement that does not flicker: good again after this many good intervals in a row.
GOOD_INTERVALS_TO_CLEAR = 2


@dataclass(frozen=True)
class PathQuality:
    """The path with one person over one interval."""

    received_loss_percent: float  # of what they sent us
    sent_loss_percent: float  # of what we sent them, as their last report says
    round_trip_ms: float | None

    @property
    def poor(self) -> bool:
        return (
            self.received_loss_percent >= POOR_LOSS_PERCENT
            or self.sent_loss_percent >= POOR_LOSS_PERCENT
            or (self.round_trip_ms or 0) >= POOR_ROUND_TRIP_MS
        )


def path_quality(now: PeerStats, before: PeerStats) -> PathQuality:
    """Between two samples of the same peer connection."""
    lost = now.packets_lost - before.packets_lost
    received = now.packets_received - before.packets_received
    received_loss = 100 * lost / (lost + max(0, received)) if lost > 0 else 0.0
    return PathQuality(
        received_loss_percent=received_loss,
        sent_loss_percent=now.sent_loss_percent or 0.0,
        round_trip_ms=now.round_trip_ms,
    )


@dataclass
class _Path:
    connection: object  # the peer connection sampled (a new one starts afresh)
    last: PeerStats
    poor: bool = False
    good_intervals: int = 0


class QualityJudge:
    """Follows each person's samples; says when someone's connection turns poor (at
    the first poor interval) and when it is good again (`GOOD_INTERVALS_TO_CLEAR`
    good intervals in a row)."""

    def __init__(self) -> None:
        self._paths: dict[str, _Path] = {}

    def observe(self, connection: object, sample: PeerStats) -> PathQuality | None:
        """A sample of `connection` (with `sample.peer_id`); the quality when that
        person's judgement changes, None otherwise."""
        path = self._paths.get(sample.peer_id)
        if path is None:
            self._paths[sample.peer_id] = _Path(connection, sample)
            return None
        if path.connection is not connection:
            # Connected again with them: its counters start from zero. Whatever
            # was said of them holds until this connection says otherwise.
            path.connection, path.last, path.good_intervals = connection, sample, 0
            return None
        quality = path_quality(sample, path.last)
        path.last = sample
        path.good_intervals = 0 if quality.poor else path.good_intervals + 1
        turned_poor = quality.poor and not path.poor
        good_again = path.poor and path.good_intervals >= GOOD_INTERVALS_TO_CLEAR
        if turned_poor or good_again:
            path.poor = quality.poor
            return quality
        return None

    def forget(self, peer_id: str) -> None:
        """They left the call."""
        self._paths.pop(peer_id, None)

    def people(self) -> set[str]:
        return set(self._paths)
