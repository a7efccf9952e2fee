"""Who is in which call, and where each signal goes. No sockets, no storage.

Every operation returns the `Delivery`s it causes (recipient + message) and the
caller writes them out; that keeps this module testable alone and reusable by any
transport or store. Deliveries for one recipient are returned in the order they
must arrive.

The *open offer*: any member may send an offer and its candidates to "next" before
the next person has joined. They are held here, in order, and handed to the next
member who joins, right after that member's `joined` (every member's, in a group).
Later signals to "next" from the same member go straight to that newcomer. This lets
a joiner answer at once instead of waiting a round trip for an offer, and it is why a
candidate sent before the other side exists is never lost.

A person about to join may also *look* at the open offers first and join with its
answers to them: each answer goes to its member with the news of the join, so the
set-up is under way the moment the person presses Join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from peercall.config import DEFAULT_MAX_QUEUED_SIGNALS
from peercall.ids import new_peer_id
from peercall.protocol import (
    NEXT_PEER,
    ErrorCode,
    LeaveReason,
    Offer,
    PeerInfo,
    PeerJoined,
    PeerLeft,
    PreparedAnswer,
    ProtocolError,
    RelayedAnswer,
    RelayedOffer,
    RelayedSignal,
    ServerMessage,
    Signal,
    relayed,
)
from peercall.server.store import call_key

# Taken open offers are remembered (to route late "next" signals to their taker)
# up to this many per member; older ones are forgotten.
MAX_TAKEN_OPEN_OFFERS = 8


@dataclass(slots=True)
class Delivery:
    """A message for one member. Not frozen: one is made for every message sent, and
    a frozen dataclass takes 2.7 times as long to make (its `__init__` goes through
    `object.__setattr__`; a NamedTuple's through a Python `__new__`, 1.9 times)."""

    to: str
    message: ServerMessage


@dataclass(slots=True)
class OpenOffer:
    session: str
    signals: list[RelayedSignal] = field(default_factory=list)
    taker: str | None = None

    def sole_offer(self) -> RelayedOffer | None:
        """Its offer (the first of its signals), if it holds only one: an answer to
        it is then an answer to the whole open offer (what `look` shows)."""
        offers = [signal for signal in self.signals if isinstance(signal, RelayedOffer)]
        return offers[0] if len(offers) == 1 and self.signals[0] is offers[0] else None


@dataclass(slots=True)
class Member:
    peer_id: str
    name: str = ""
    # By session, oldest first; at most one is untaken (the newest).
    open_offers: dict[str, OpenOffer] = field(default_factory=dict)

    def untaken_open_offer(self) -> OpenOffer | None:
        for offer in self.open_offers.values():
            if offer.taker is None:
                return offer
        return None

    def info(self) -> PeerInfo:
        return PeerInfo(peer_id=self.peer_id, name=self.name)


@dataclass(slots=True)
class Call:
    call_id: str
    capacity: int
    members: dict[str, Member] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JoinResult:
    member: Member
    peers: list[PeerInfo]
    # For the newcomer these come after its `joined`; for others, any time.
    deliveries: list[Delivery]
    # The members whose open offer took the newcomer's prepared answer.
    answered: list[str] = field(default_factory=list)


class CallRoster:
    """The live members of every call this process serves."""

    def __init__(self, capacity: int, max_queued_signals: int = DEFAULT_MAX_QUEUED_SIGNALS) -> None:
        self.capacity = capacity
        # How many signals one open offer may hold before anybody joins. An offer and
        # its candidates are a few dozen at most; more means a broken or hostile client.
        self.max_queued_signals = max_queued_signals
        self._calls: dict[str, Call] = {}

    def members_by_call_key(self) -> dict[str, int]:
        """How many are in each call somebody is in, by store key (`store.call_key`)."""
        return {call_key(call_id): len(call.members) for call_id, call in self._calls.items()}

    @property
    def call_count(self) -> int:
        return len(self._calls)

    def held_signals(self) -> int:
        """Signals waiting in open offers for somebody to join."""
        return sum(
            len(offer.signals)
            for call in self._calls.values()
            for member in call.members.values()
            for offer in member.open_offers.values()
        )

    def adopt(self, call: Call) -> None:
        """Serve `call` as it is (a coordinator that keeps calls elsewhere loads one)."""
        self._calls[call.call_id] = call

    def call(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def member_count(self, call_id: str) -> int:
        call = self._calls.get(call_id)
        return len(call.members) if call else 0

    def is_member(self, call_id: str, peer_id: str) -> bool:
        call = self._calls.get(call_id)
        return call is not None and peer_id in call.members

    def open_offers(self, call_id: str) -> list[RelayedOffer]:
        """What `look` shows: each member's open offer (raises CALL_FULL: nobody
        could take them)."""
        call = self._calls.get(call_id)
        if call is None:
            return []
        self._check_room(call)
        untaken = (member.untaken_open_offer() for member in call.members.values())
        offers = (open_offer.sole_offer() for open_offer in untaken if open_offer is not None)
        return [offer for offer in offers if offer is not None]

    @staticmethod
    def _check_room(call: Call) -> None:
        if len(call.members) >= call.capacity:
            raise ProtocolError(
                ErrorCode.CALL_FULL, f"This call is full: it holds {call.capacity} people."
            )

    def join(
        self, call_id: str, name: str = "", answers: Mapping[str, PreparedAnswer] | None = None
    ) -> JoinResult:
        """Add a member; raise CALL_FULL when there is no seat left. `answers` (by
        member): answers made to the open offers `look` showed; an answer whose open
        offer is still there goes to its member, others are let go (that member's
        open offer, if a new one, is handed over as usual)."""
        call = self._calls.get(call_id) or Call(call_id, self.capacity)
        self._check_room(call)
        newcomer = Member(peer_id=new_peer_id(), name=name)
        peers = [member.info() for member in call.members.values()]
        deliveries: list[Delivery] = []
        answered: list[str] = []
        for member in call.members.values():
            answer = (answers or {}).get(member.peer_id)
            if self._hand_over(member, newcomer, answer, deliveries):
                answered.append(member.peer_id)
        call.members[newcomer.peer_id] = newcomer
        self._calls[call_id] = call
        return JoinResult(newcomer, peers, deliveries, answered)

    @staticmethod
    def _hand_over(
        member: Member, newcomer: Member, answer: PreparedAnswer | None, deliveries: list[Delivery]
    ) -> bool:
        """Tells `member` of the newcomer and gives the newcomer its open offer, or
        gives `member` the newcomer's answer to it (True) if that is still the one."""
        offer = member.untaken_open_offer()
        if answer is not None:
            looked_at = offer.sole_offer() if offer is not None else None
            if looked_at is None or answer.session != looked_at.session:
                answer = None  # made for an offer that is gone: let go
        if offer is not None:
            offer.taker = newcomer.peer_id
            # When it answered the offer, the newcomer has it already.
            held = offer.signals[1:] if answer is not None else offer.signals
            deliveries.extend(Delivery(newcomer.peer_id, signal) for signal in held)
            offer.signals.clear()
        notice = PeerJoined(
            peer_id=newcomer.peer_id,
            name=newcomer.name,
            open_offer_session=offer.session if offer else None,
        )
        deliveries.append(Delivery(member.peer_id, notice))
        if answer is None:
            return False
        reply = RelayedAnswer(from_=newcomer.peer_id, session=answer.session, sdp=answer.sdp)
        deliveries.append(Delivery(member.peer_id, reply))
        return True

    def restore(self, call_id: str, peer_id: str, name: str = "") -> None:
        """Put back a member who was in the call before this process started (resume
        after a restart). Nobody is told: they knew each other already."""
        call = self._calls.get(call_id) or Call(call_id, self.capacity)
        if peer_id in call.members:
            return
        if len(call.members) >= call.capacity:
            raise ProtocolError(ErrorCode.CALL_FULL)
        call.members[peer_id] = Member(peer_id=peer_id, name=name)
        self._calls[call_id] = call

    def relay(self, call_id: str, sender_id: str, signal: Signal) -> list[Delivery]:
        """Route one offer/answer/candidate/end-of-candidates from a member."""
        call = self._calls.get(call_id)
        sender = call.members.get(sender_id) if call else None
        if call is None or sender is None:
            raise ProtocolError(ErrorCode.NOT_IN_CALL)
        message = relayed(signal, sender_id)
        if signal.to == NEXT_PEER:
            return self._relay_to_next(call, sender, signal, message)
        if signal.to == sender_id or signal.to not in call.members:
            raise ProtocolError(ErrorCode.UNKNOWN_PEER)
        return [Delivery(signal.to, message)]

    def _relay_to_next(
        self, call: Call, sender: Member, signal: Signal, message: RelayedSignal
    ) -> list[Delivery]:
        offers = sender.open_offers
        offer = offers.get(signal.session)
        if offer is None:
            if not isinstance(signal, Offer):
                raise ProtocolError(ErrorCode.NO_OPEN_OFFER)
            # A newcomer must get only the newest offer: forget untaken older ones.
            for session in [s for s, o in offers.items() if o.taker is None]:
                del offers[session]
            while len(offers) >= MAX_TAKEN_OPEN_OFFERS:
                del offers[next(iter(offers))]
            offer = offers[signal.session] = OpenOffer(signal.session)
        if offer.taker is None:
            if len(offer.signals) >= self.max_queued_signals:
                raise ProtocolError(
                    ErrorCode.QUEUE_FULL,
                    f"An open offer holds at most {self.max_queued_signals} signals.",
                )
            offer.signals.append(message)
            return []
        if offer.taker in call.members:
            return [Delivery(offer.taker, message)]
        # The member who took the offer has left: its peer connection is gone too.
        return []

    def leave(self, call_id: str, peer_id: str, reason: LeaveReason = "left") -> list[Delivery]:
        """Remove a member; everybody left in the call is told."""
        call = self._calls.get(call_id)
        if call is None or call.members.pop(peer_id, None) is None:
            return []
        if not call.members:
            del self._calls[call_id]
            return []
        notice = PeerLeft(peer_id=peer_id, reason=reason)
        return [Delivery(member_id, notice) for member_id in call.members]
