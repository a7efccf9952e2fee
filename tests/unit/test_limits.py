from peercall.server.limits import BucketsByKey, ConnectionCounter, TokenBucket


class FakeClock:
    """Time that moves only when the test says so (pure logic, no sleeping)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_its_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.1  # one token back
    assert bucket.take()
    assert not bucket.take()
    clock.now += 100  # never more than the burst
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_buckets_by_key_are_independent():
    clock = FakeClock()
    buckets = BucketsByKey(rate=1, burst=2, clock=clock)
    assert buckets.take("a")
    assert buckets.take("a")
    assert not buckets.take("a")
    assert buckets.take("b")  # someone else is not slowed down


def test_connections_per_address_have_a_ceiling():
    counter = ConnectionCounter(limit=2)
    assert counter.open("1.2.3.4")
    assert counter.open("1.2.3.4")
    assert not counter.open("1.2.3.4")
    assert counter.open("5.6.7.8")
    counter.close("1.2.3.4")
    assert counter.open("1.2.3.4")
