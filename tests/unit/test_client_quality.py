"""How the Python client judges a connection (as the page's tiles do)."""

from peercall.client.quality import PathQuality, QualityJudge, path_quality
from peercall.client.stats import PeerStats


def sample(received: int, lost: int, rtt: float | None = 20.0, sent_loss: float = 0.0):
    return PeerStats("peer", bytes_sent=0, bytes_received=0, packets_received=received,
                     packets_lost=lost, round_trip_ms=rtt, sent_loss_percent=sent_loss)  # fmt: skip


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
    said = [judge.observe(link, step) for step in steps]
    assert [None if q is None else q.poor for q in said] == [
        None, None, True, None, None, None, None, False, None,
    ]  # fmt: skip
    assert said[2] is not None
    assert said[2].received_loss_percent == 20.0


def test_a_new_connection_with_them_starts_its_counters_afresh():
    judge, first, second = QualityJudge(), object(), object()
    judge.observe(first, sample(1000, 0))
    assert judge.observe(first, sample(1500, 500)).poor
    # Reconnected: its counters start from zero, which is no loss, and no verdict yet.
    assert judge.observe(second, sample(10, 0)) is None
    assert judge.observe(second, sample(1010, 0)) is None
    assert judge.observe(second, sample(2010, 0)).poor is False


def test_people_who_left_are_forgotten():
    judge = QualityJudge()
    judge.observe(object(), sample(1000, 0))
    assert judge.people() == {"peer"}
    judge.forget("peer")
    assert judge.people() == set()
