"""The SQLite store gathers membership writes and writes them together: whatever the
batch held, what is read back is what happened, in order."""

from pathlib import Path

from peercall.server.store import call_key
from peercall.server.store.sqlite import SqliteCallStore

CALL = "a-call-id-that-is-only-a-test-value"


async def opened(path: Path) -> SqliteCallStore:
    store = SqliteCallStore(path / "calls.db")
    await store.open()
    await store.create_call(CALL, now=1.0)
    return store


async def test_a_member_who_leaves_before_the_batch_is_written_is_recorded_as_gone(tmp_path):
    store = await opened(tmp_path)
    try:
        await store.add_member(CALL, "peer-a", "Ada", "hash-a", now=2.0)
        await store.add_member(CALL, "peer-b", "Bob", "hash-b", now=2.5)
        await store.member_left(CALL, "peer-a", now=3.0)  # same batch as the join
        a = await store.get_member(CALL, "peer-a")
        b = await store.get_member(CALL, "peer-b")
        assert a is not None
        assert (a.name, a.resume_token_hash, a.left_at) == ("Ada", "hash-a", 3.0)
        assert b is not None
        assert b.left_at is None
    finally:
        await store.close()


async def test_a_member_whose_join_was_written_already_is_recorded_as_gone(tmp_path):
    store = await opened(tmp_path)
    try:
        await store.add_member(CALL, "peer-a", "Ada", "hash-a", now=2.0)
        await store.flush()
        await store.member_left(CALL, "peer-a", now=4.0)
        await store.member_left(CALL, "peer-a", now=5.0)  # the first leave counts
        member = await store.get_member(CALL, "peer-a")
        assert member is not None
        assert member.left_at == 4.0
    finally:
        await store.close()


async def test_history_and_membership_outlive_the_store(tmp_path):
    store = await opened(tmp_path)
    key = call_key(CALL)
    await store.add_member(CALL, "peer-a", "Ada", "hash-a", now=2.0)
    await store.record_event(key, "join", "peer-a", now=2.0)
    await store.member_left(CALL, "peer-a", now=3.0)
    await store.record_event(key, "leave", "peer-a", now=3.0)
    await store.close()  # written on the way out, not lost

    reopened = SqliteCallStore(tmp_path / "calls.db")
    await reopened.open()
    try:
        events = await reopened.events(CALL)
        assert [(e.kind, e.peer_id, e.at) for e in events] == [
            ("created", None, 1.0),
            ("join", "peer-a", 2.0),
            ("leave", "peer-a", 3.0),
        ]
        member = await reopened.get_member(CALL, "peer-a")
        assert member is not None
        assert member.left_at == 3.0
    finally:
        await reopened.close()


async def test_only_calls_that_ended_long_enough_ago_are_forgotten_in_batches(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("peercall.server.store.sqlite.FORGET_BATCH", 2)
    store = await opened(tmp_path)  # CALL, created at 1.0, stays open
    try:
        old_calls = [f"an-old-call-{n}" for n in range(5)]
        for call_id in [*old_calls, "a-recent-call"]:
            await store.create_call(call_id, now=1.0)
            await store.add_member(call_id, "peer-a", "Ada", "hash-a", now=2.0)
            await store.record_event(call_key(call_id), "join", "peer-a", now=2.0)
        for call_id in old_calls:
            await store.end_call(call_key(call_id), now=10.0)
        await store.end_call(call_key("a-recent-call"), now=100.0)

        assert await store.forget_ended_calls(ended_before=50.0) == 5
        assert await store.forget_ended_calls(ended_before=50.0) == 0
        for call_id in old_calls:
            assert await store.get_call(call_id) is None  # not even from its cache
            assert await store.events(call_id) == []
            assert await store.get_member(call_id, "peer-a") is None
        recent = await store.get_call("a-recent-call")
        assert recent is not None
        assert recent.ended
        assert [event.kind for event in await store.events("a-recent-call")] == [
            "created",
            "join",
            "ended",
        ]
        assert await store.get_call(CALL) is not None
    finally:
        await store.close()
