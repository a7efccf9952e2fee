"""How well the media gets through with each person, judged as the page judges it
(web/js/quality.js), so that a script hears of a poor connection as a person in the
call sees it on the tile: packets lost either way, or a long round trip. And when
nothing gets through at all: a path that is gone."""

from __future__ import annotations

from dataclasses import dataclass

from peercall.client.stats import PeerStats

INTERVAL_SECONDS = 2.0
# Past these over an interval, sound breaks up and pictures freeze.
POOR_LOSS_PERCENT = 5.0
POOR_ROUND_TRIP_MS = 600.0
# A judgement that does not flicker: good again after this many good intervals in a row.
GOOD_INTERVALS_TO_CLEAR = 2
# Nothing at all received for this long while we send media: the path is gone. Whoever
# receives media reports on it (RTCP): aiortc every 0.5-1.5 s, a browser at least every
# 7.5 s (sound alone). aiortc's own sign, its consent checks unanswered, takes 30 s.
SILENT_PATH_SECONDS = 10.0


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
    # When a sample last found something new received, and our media packets then.
    heard_at: float
    sent_when_heard: int
    poor: bool = False
    good_intervals: int = 0

    def heard(self, sample: PeerStats, now: float) -> None:
        self.heard_at, self.sent_when_heard = now, sample.packets_sent


class QualityJudge:
    """Follows each person's samples; says when someone's connection turns poor (at
    the first poor interval) and when it is good again (`GOOD_INTERVALS_TO_CLEAR`
    good intervals in a row)."""

    def __init__(self) -> None:
        self._paths: dict[str, _Path] = {}

    def observe(self, connection: object, sample: PeerStats, now: float) -> PathQuality | None:
        """A sample of `connection` (with `sample.peer_id`) taken at `now` (seconds,
        monotonic); the quality when that person's judgement changes, None otherwise."""
        path = self._paths.get(sample.peer_id)
        if path is None:
            self._paths[sample.peer_id] = _Path(connection, sample, now, sample.packets_sent)
            return None
        if path.connection is not connection:
            # Connected again with them: its counters start from zero. Whatever
            # was said of them holds until this connection says otherwise.
            path.connection, path.last, path.good_intervals = connection, sample, 0
            path.heard(sample, now)
            return None
        if sample.bytes_received != path.last.bytes_received:
            path.heard(sample, now)
        quality = path_quality(sample, path.last)
        path.last = sample
        path.good_intervals = 0 if quality.poor else path.good_intervals + 1
        turned_poor = quality.poor and not path.poor
        good_again = path.poor and path.good_intervals >= GOOD_INTERVALS_TO_CLEAR
        if turned_poor or good_again:
            path.poor = quality.poor
            return quality
        return None

    def gone_quiet(self, peer_id: str, now: float) -> bool:
        """Whether nothing has come from them for SILENT_PATH_SECONDS although we went
        on sending them media: their reports on it would have come back by now."""
        path = self._paths.get(peer_id)
        return (
            path is not None
            and now - path.heard_at >= SILENT_PATH_SECONDS
            and path.last.packets_sent > path.sent_when_heard
        )

    def forget(self, peer_id: str) -> None:
        """They left the call."""
        self._paths.pop(peer_id, None)

    def people(self) -> set[str]:
        return set(self._paths)
