import pytest

from peercall.config import DEFAULT_MAX_QUEUED_SIGNALS
from peercall.protocol import (
    Answer,
    Candidate,
    EndOfCandidates,
    ErrorCode,
    IceCandidateInit,
    Offer,
    PeerJoined,
    PeerLeft,
    PreparedAnswer,
    ProtocolError,
    RelayedAnswer,
    RelayedCandidate,
    RelayedEndOfCandidates,
    RelayedOffer,
)
from peercall.server.calls import CallRoster

CALL = "C" * 22


def candidate(n: int, to: str = "next", session: str = "s") -> Candidate:
    return Candidate(to=to, session=session, candidate=IceCandidateInit(candidate=f"candidate:{n}"))


def code_of(action) -> ErrorCode:
    with pytest.raises(ProtocolError) as caught:
        action()
    return caught.value.code


def test_joining_lists_who_is_there_and_tells_them():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL, "Alice")
    assert alice.peers == []
    assert alice.deliveries == []
    bob = roster.join(CALL, "Bob")
    assert [p.peer_id for p in bob.peers] == [alice.member.peer_id]
    assert [(d.to, d.message) for d in bob.deliveries] == [
        (alice.member.peer_id, PeerJoined(peer_id=bob.member.peer_id, name="Bob"))
    ]
    assert roster.member_count(CALL) == 2


def test_the_call_refuses_a_member_past_its_capacity():
    roster = CallRoster(capacity=2)
    roster.join(CALL)
    roster.join(CALL)
    assert code_of(lambda: roster.join(CALL)) == ErrorCode.CALL_FULL
    assert roster.member_count(CALL) == 2


def test_a_seat_frees_up_when_someone_leaves():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    bob = roster.join(CALL).member
    deliveries = roster.leave(CALL, bob.peer_id, "disconnected")
    assert [(d.to, d.message) for d in deliveries] == [
        (alice.peer_id, PeerLeft(peer_id=bob.peer_id, reason="disconnected"))
    ]
    roster.join(CALL)
    assert roster.member_count(CALL) == 2


def test_the_last_member_leaving_forgets_the_call():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    assert roster.leave(CALL, alice.peer_id) == []
    assert roster.member_count(CALL) == 0
    assert roster.leave(CALL, alice.peer_id) == []  # twice is harmless


def test_an_open_offer_and_its_candidates_go_to_the_next_member_in_order():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    assert roster.relay(CALL, alice.peer_id, Offer(to="next", session="s", sdp="v=0")) == []
    for n in range(5):
        assert roster.relay(CALL, alice.peer_id, candidate(n)) == []
    bob = roster.join(CALL)
    to_bob = [d.message for d in bob.deliveries if d.to == bob.member.peer_id]
    assert to_bob[0] == RelayedOffer(from_=alice.peer_id, session="s", sdp="v=0")
    assert [m.candidate.candidate for m in to_bob[1:]] == [f"candidate:{n}" for n in range(5)]
    to_alice = [d.message for d in bob.deliveries if d.to == alice.peer_id]
    assert to_alice == [PeerJoined(peer_id=bob.member.peer_id, open_offer_session="s")]

    later = roster.relay(CALL, alice.peer_id, candidate(9))
    assert [(d.to, d.message.candidate.candidate) for d in later] == [
        (bob.member.peer_id, "candidate:9")
    ]
    # Handed over once: a third join (after Bob leaves) gets nothing old.
    roster.leave(CALL, bob.member.peer_id)
    carol = roster.join(CALL)
    assert [d for d in carol.deliveries if d.to == carol.member.peer_id] == []


def test_signals_for_a_taker_who_left_are_dropped_quietly():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="s", sdp="v=0"))
    bob = roster.join(CALL).member
    roster.leave(CALL, bob.peer_id)
    assert roster.relay(CALL, alice.peer_id, EndOfCandidates(to="next", session="s")) == []


def test_a_new_open_offer_replaces_an_untaken_one():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="old", sdp="v=0 old"))
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="new", sdp="v=0 new"))
    assert code_of(lambda: roster.relay(CALL, alice.peer_id, candidate(1, session="old"))) == (
        ErrorCode.NO_OPEN_OFFER
    )
    bob = roster.join(CALL)
    assert [d.message for d in bob.deliveries if d.to == bob.member.peer_id] == [
        RelayedOffer(from_=alice.peer_id, session="new", sdp="v=0 new")
    ]


def test_looking_shows_each_members_open_offer_and_changes_nothing():
    roster = CallRoster(capacity=3)
    assert roster.open_offers(CALL) == []
    alice = roster.join(CALL).member
    bob = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="a", sdp="v=0 a"))
    roster.relay(CALL, alice.peer_id, candidate(1, session="a"))
    roster.relay(CALL, bob.peer_id, Offer(to="next", session="b", sdp="v=0 b"))
    shown = [RelayedOffer(from_=alice.peer_id, session="a", sdp="v=0 a")]
    shown.append(RelayedOffer(from_=bob.peer_id, session="b", sdp="v=0 b"))
    assert roster.open_offers(CALL) == shown
    assert roster.open_offers(CALL) == shown  # looking twice takes nothing
    assert roster.held_signals() == 3


def test_looking_into_a_full_call_is_refused():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="s", sdp="v=0"))
    roster.join(CALL)
    assert code_of(lambda: roster.open_offers(CALL)) == ErrorCode.CALL_FULL


def test_an_answer_made_before_joining_goes_to_its_member_with_the_news():
    roster = CallRoster(capacity=3)
    alice = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="s", sdp="v=0"))
    roster.relay(CALL, alice.peer_id, EndOfCandidates(to="next", session="s"))
    answer = PreparedAnswer(to=alice.peer_id, session="s", sdp="v=0 answer")
    bob = roster.join(CALL, "Bob", {alice.peer_id: answer})
    newcomer = bob.member.peer_id
    assert bob.answered == [alice.peer_id]
    # Alice hears of Bob and gets his answer at once; Bob gets what came after the
    # offer he answered (not the offer again).
    assert [(d.to, d.message) for d in bob.deliveries] == [
        (newcomer, RelayedEndOfCandidates(from_=alice.peer_id, session="s")),
        (alice.peer_id, PeerJoined(peer_id=newcomer, name="Bob", open_offer_session="s")),
        (alice.peer_id, RelayedAnswer(from_=newcomer, session="s", sdp="v=0 answer")),
    ]
    # The open offer is Bob's now: Alice's later signals to "next" go to him.
    later = roster.relay(CALL, alice.peer_id, candidate(7))
    assert [d.to for d in later] == [newcomer]


def test_an_answer_to_an_offer_that_is_gone_is_let_go_and_the_new_offer_handed_over():
    roster = CallRoster(capacity=3)
    alice = roster.join(CALL).member
    carol = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="old", sdp="v=0 old"))
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="new", sdp="v=0 new"))
    answers = {
        alice.peer_id: PreparedAnswer(to=alice.peer_id, session="old", sdp="v=0 stale"),
        # Carol has no open offer; and somebody who is not there at all.
        carol.peer_id: PreparedAnswer(to=carol.peer_id, session="c", sdp="v=0"),
        "X" * 16: PreparedAnswer(to="X" * 16, session="x", sdp="v=0"),
    }
    bob = roster.join(CALL, "", answers)
    newcomer = bob.member.peer_id
    assert bob.answered == []
    assert [(d.to, d.message) for d in bob.deliveries] == [
        (newcomer, RelayedOffer(from_=alice.peer_id, session="new", sdp="v=0 new")),
        (alice.peer_id, PeerJoined(peer_id=newcomer, open_offer_session="new")),
        (carol.peer_id, PeerJoined(peer_id=newcomer)),
    ]


def test_an_open_offer_holds_a_bounded_number_of_signals():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    roster.relay(CALL, alice.peer_id, Offer(to="next", session="s", sdp="v=0"))
    for n in range(DEFAULT_MAX_QUEUED_SIGNALS - 1):
        roster.relay(CALL, alice.peer_id, candidate(n))
    assert code_of(lambda: roster.relay(CALL, alice.peer_id, candidate(-1))) == ErrorCode.QUEUE_FULL


def test_direct_signals_reach_only_members_of_the_same_call():
    roster = CallRoster(capacity=2)
    alice = roster.join(CALL).member
    bob = roster.join(CALL).member
    stranger = roster.join("D" * 22).member
    answer = Answer(to=bob.peer_id, session="s", sdp="v=0")
    [delivery] = roster.relay(CALL, alice.peer_id, answer)
    assert delivery.to == bob.peer_id
    assert isinstance(
        roster.relay(CALL, alice.peer_id, candidate(1, to=bob.peer_id))[0].message, RelayedCandidate
    )
    to_stranger = Answer(to=stranger.peer_id, session="s", sdp="v=0")
    assert code_of(lambda: roster.relay(CALL, alice.peer_id, to_stranger)) == ErrorCode.UNKNOWN_PEER
    to_self = Answer(to=alice.peer_id, session="s", sdp="v=0")
    assert code_of(lambda: roster.relay(CALL, alice.peer_id, to_self)) == ErrorCode.UNKNOWN_PEER
    assert code_of(lambda: roster.relay(CALL, stranger.peer_id, answer)) == ErrorCode.NOT_IN_CALL
