from peercall.config import DEFAULT_MAX_QUEUED_SIGNALS
from peercall.protocol import PeerJoined
from peercall.server.members import MemberLink, new_resume_token, token_hash


def link() -> MemberLink:
    return MemberLink("c" * 22, "p" * 16, token_hash("token"))


def joined(n: int) -> PeerJoined:
    return PeerJoined(peer_id=f"{n:016d}")


def test_messages_are_numbered_and_replayed_after_what_the_member_has():
    member = link()
    numbered = [member.number(joined(n)) for n in range(5)]
    assert [m.seq for m in numbered] == [1, 2, 3, 4, 5]
    assert member.replay_after(2) == numbered[2:]
    assert member.replay_after(5) == []


def test_acknowledged_messages_are_forgotten():
    member = link()
    for n in range(5):
        member.number(joined(n))
    member.acknowledge(3)
    assert [m.seq for m in member.unacknowledged] == [4, 5]


def test_no_replay_when_some_of_it_is_gone_or_never_was():
    member = link()
    for n in range(DEFAULT_MAX_QUEUED_SIGNALS + 10):
        member.number(joined(n))
    assert member.replay_after(0) is None  # the first ten were dropped
    assert member.replay_after(10)[0].seq == 11
    assert member.replay_after(DEFAULT_MAX_QUEUED_SIGNALS + 50) is None  # never sent


def test_a_client_number_is_handled_once():
    member = link()
    assert member.is_new(1)
    assert member.is_new(2)
    assert not member.is_new(2)
    assert not member.is_new(1)
    assert member.is_new(None)  # unnumbered messages are always handled


def test_only_the_right_token_holds_the_place():
    token = new_resume_token()
    member = MemberLink("c" * 22, "p" * 16, token_hash(token))
    assert member.holds_token(token)
    assert not member.holds_token(token + "x")
    assert len(token) >= 32
