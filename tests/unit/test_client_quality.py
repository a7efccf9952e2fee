"""How the Python client judges a connection (as the page's tiles do)."""

from peercall.client.quality import (
    SILENT_PATH_SECONDS,
    PathQuality,
    QualityJudge,
    path_quality,
)
from peercall.client.stats import PeerStats

INTERVAL = 2.0  # seconds between samples, as the call takes them


def sample(received: int, lost: int, rtt: float | None = 20.0, sent_loss: float = 0.0):
    return PeerStats("peer", bytes_sent=0, bytes_received=0, packets_received=received,
                     packets_lost=lost, round_trip_ms=rtt, sent_loss_percent=sent_loss)  # fmt: skip


def traffic(bytes_received: int, packets_sent: int) -> PeerStats:
    return PeerStats("peer", bytes_sent=0, bytes_received=bytes_received, packets_received=0,
                     packets_lost=0, round_trip_ms=None, packets_sent=packets_sent)  # fmt: skip


def test_loss_is_counted_over_the_interval_only():
    quality = path_quality(sample(1900, 110), sample(1000, 10))
    assert quality == PathQuality(received_loss_percent=10.0, sent_loss_percent=0.0,
                                  round_trip_ms=20.0)  # fmt: skip
    assert quality.poor


def test_what_makes_a_path_poor():
    before = sample(1000, 0)
    assert not path_quality(sample(2000, 49), before).poor  # 4.7 %
    assert path_quality(sample(2000, 53), before).poor  # 5.0 %
    assert path_quality(sample(2000, 0, sent_loss=5.1), before).poor  # theirs of ours
    assert path_quality(sample(2000, 0, rtt=600.0), before).poor
    assert not path_quality(sample(2000, 0, rtt=None), before).poor  # no report yet


def test_a_person_is_poor_at_once_and_good_again_after_two_good_intervals():
    judge, link = QualityJudge(), object()
    steps = [
        sample(1000, 0),  # the first: nothing to compare with
        sample(2000, 0),
        sample(2800, 200),  # 20 % lost: poor
        sample(3600, 400),  # still poor: said once
        sample(4600, 400),  # good once
        sample(5100, 500),  # poor again: the count starts over
        sample(6100, 500),
        sample(7100, 500),  # good twice in a row
        sample(8100, 500),
    ]
    said = [judge.observe(link, step, n * INTERVAL) for n, step in enumerate(steps)]
    assert [None if q is None else q.poor for q in said] == [
        None, None, True, None, None, None, None, False, None,
    ]  # fmt: skip
    assert said[2] is not None
    assert said[2].received_loss_percent == 20.0


def test_a_new_connection_with_them_starts_its_counters_afresh():
    judge, first, second = QualityJudge(), object(), object()
    judge.observe(first, sample(1000, 0), 0.0)
    assert judge.observe(first, sample(1500, 500), 2.0).poor
    # Reconnected: its counters start from zero, which is no loss, and no verdict yet.
    assert judge.observe(second, sample(10, 0), 4.0) is None
    assert judge.observe(second, sample(1010, 0), 6.0) is None
    assert judge.observe(second, sample(2010, 0), 8.0).poor is False


def test_people_who_left_are_forgotten():
    judge = QualityJudge()
    judge.observe(object(), sample(1000, 0), 0.0)
    assert judge.people() == {"peer"}
    judge.forget("peer")
    assert judge.people() == set()


def quiet_after(samples: list[PeerStats], connections: list[object] | None = None) -> list[bool]:
    """Whether the path is gone quiet after each sample, taken INTERVAL apart."""
    judge, link = QualityJudge(), object()
    said = []
    for n, step in enumerate(samples):
        now = n * INTERVAL
        judge.observe(connections[n] if connections else link, step, now)
        said.append(judge.gone_quiet("peer", now))
    return said


def test_a_path_that_brings_nothing_back_while_we_send_media_is_gone():
    steps = int(SILENT_PATH_SECONDS / INTERVAL)
    silent = [traffic(5000, 100 + 50 * n) for n in range(steps + 2)]
    assert quiet_after([traffic(4000, 50), *silent]) == [False] * (steps + 1) + [True, True]


def test_a_path_is_not_gone_while_anything_comes_or_while_we_send_no_media():
    steps = int(SILENT_PATH_SECONDS / INTERVAL) + 3
    # Their reports trickle in now and then (a browser reports on sound alone every
    # few seconds): a byte is enough.
    trickling = [traffic(5000 + n // 3, 100 + 50 * n) for n in range(steps)]
    assert not any(quiet_after(trickling))
    # Nothing comes, but we send no media either: nothing needs to come back.
    idle = [traffic(5000, 100) for _ in range(steps)]
    assert not any(quiet_after(idle))


def test_a_new_connection_with_them_is_given_its_own_time():
    steps = int(SILENT_PATH_SECONDS / INTERVAL)
    first, second = object(), object()
    samples = [traffic(5000, 100 + 50 * n) for n in range(steps + 1)]
    connections = [first] * steps + [second]
    assert quiet_after(samples, connections)[-1] is False
