"""The signaling protocol: every message type on the wire, and every error code.

This module is the single source of truth for `docs/protocol.md`. Messages are JSON
objects with a `"type"` field; msgspec validates each one against its struct, so
no hand-written checks stand between the network and the call state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

import msgspec

from peercall.config import IceServer
from peercall.ids import CALL_ID_PATTERN, PEER_ID_PATTERN, TARGET_PATTERN

PROTOCOL_VERSION = 1
# Address of the member who will join next: a member alone in a call can send its
# offer and candidates before anybody is there to receive them (see "open offer").
NEXT_PEER = "next"

CallId = Annotated[str, msgspec.Meta(pattern=CALL_ID_PATTERN)]
PeerId = Annotated[str, msgspec.Meta(pattern=PEER_ID_PATTERN)]
Target = Annotated[str, msgspec.Meta(pattern=TARGET_PATTERN)]
DisplayName = Annotated[str, msgspec.Meta(max_length=64)]
Sdp = Annotated[str, msgspec.Meta(min_length=1)]
# Names one peer connection between two members; chosen by whoever makes its first
# offer and carried by every signal of it, so stale signals can be told apart.
SessionId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ClientSeq = Annotated[int, msgspec.Meta(ge=1)]


class ErrorCode(StrEnum):
    """Machine-readable error codes; each has one default human message below."""

    BAD_JSON = "bad-json"
    UNKNOWN_TYPE = "unknown-type"
    INVALID_MESSAGE = "invalid-message"
    MESSAGE_TOO_LARGE = "message-too-large"
    NOT_IN_CALL = "not-in-call"
    ALREADY_IN_CALL = "already-in-call"
    CALL_NOT_FOUND = "call-not-found"
    CALL_ENDED = "call-ended"
    CALL_FULL = "call-full"
    PASSCODE_REQUIRED = "passcode-required"
    WRONG_PASSCODE = "wrong-passcode"
    UNKNOWN_PEER = "unknown-peer"
    NO_OPEN_OFFER = "no-open-offer"
    QUEUE_FULL = "queue-full"
    RESUME_FAILED = "resume-failed"
    RATE_LIMITED = "rate-limited"
    TOO_MANY_CONNECTIONS = "too-many-connections"
    TIMEOUT = "timeout"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    STORAGE_UNAVAILABLE = "storage-unavailable"
    INTERNAL_ERROR = "internal-error"


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.BAD_JSON: "The message is not valid JSON.",
    ErrorCode.UNKNOWN_TYPE: "Unknown message type.",
    ErrorCode.INVALID_MESSAGE: "The message does not match its schema.",
    ErrorCode.MESSAGE_TOO_LARGE: "The message is larger than the server accepts.",
    ErrorCode.NOT_IN_CALL: "Join a call first.",
    ErrorCode.ALREADY_IN_CALL: "This connection is already in a call; leave it first.",
    ErrorCode.CALL_NOT_FOUND: "This call does not exist. Check the link.",
    ErrorCode.CALL_ENDED: "This call has ended.",
    ErrorCode.CALL_FULL: "This call is full.",
    ErrorCode.PASSCODE_REQUIRED: "This call has a passcode: ask the person who invited you.",
    ErrorCode.WRONG_PASSCODE: "That passcode is not right.",
    ErrorCode.UNKNOWN_PEER: "There is no such person in this call.",
    ErrorCode.NO_OPEN_OFFER: "Send an offer to 'next' before candidates to 'next'.",
    ErrorCode.QUEUE_FULL: "Too many signals are waiting for this recipient.",
    ErrorCode.RESUME_FAILED: "This place in the call cannot be taken back; join again.",
    ErrorCode.RATE_LIMITED: "Too many messages too fast; this one was dropped. Slow down.",
    ErrorCode.TOO_MANY_CONNECTIONS: "Too many connections from your address.",
    ErrorCode.TIMEOUT: "Nothing was heard from this connection in time; it is closed.",
    ErrorCode.UNAUTHORIZED: "This needs the operator's admin token.",
    ErrorCode.NOT_FOUND: "There is nothing at this address.",
    ErrorCode.METHOD_NOT_ALLOWED: "This address does not take that method.",
    ErrorCode.STORAGE_UNAVAILABLE: "The server cannot reach its storage right now. "
    "Try again in a moment.",
    ErrorCode.INTERNAL_ERROR: "The server failed to handle this message.",
}


class ProtocolError(Exception):
    """A request the server refuses; becomes one `error` message on the wire."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


# --- client -> server -------------------------------------------------------------


class _ClientMessage(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, frozen=True):
    pass


class IceCandidateInit(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """`RTCIceCandidateInit`, as `RTCIceCandidate.toJSON()` gives it."""

    candidate: Annotated[str, msgspec.Meta(max_length=2048)]
    sdpMid: str | None = None
    sdpMLineIndex: Annotated[int, msgspec.Meta(ge=0, le=1024)] | None = None
    usernameFragment: str | None = None


Passcode = Annotated[str, msgspec.Meta(max_length=128)]
# A call holds at most 12 people: a newcomer answers at most 11 open offers.
MAX_PREPARED_ANSWERS = 16


class PreparedAnswer(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An answer to a member's open offer, made before joining (see "Looking in")."""

    to: PeerId
    session: SessionId
    sdp: Sdp


class Join(_ClientMessage, tag="join"):
    call_id: CallId
    name: DisplayName = ""
    # Needed when the call was created with one (see "Passcodes").
    passcode: Passcode | None = None
    # Answers to the open offers of a `look`: they go to their members with the join.
    answers: Annotated[list[PreparedAnswer], msgspec.Meta(max_length=MAX_PREPARED_ANSWERS)] = []


class Look(_ClientMessage, tag="look"):
    """Before joining: the members' open offers, to answer them ahead of `join`."""

    call_id: CallId
    passcode: Passcode | None = None


class Offer(_ClientMessage, tag="offer"):
    to: Target
    session: SessionId
    sdp: Sdp
    # The sender's own number for this message (see "Resuming"); optional.
    seq: ClientSeq | None = None


class Answer(_ClientMessage, tag="answer"):
    to: PeerId
    session: SessionId
    sdp: Sdp
    # The sender's own number for this message (see "Resuming"); optional.
    seq: ClientSeq | None = None


class Candidate(_ClientMessage, tag="candidate"):
    to: Target
    session: SessionId
    candidate: IceCandidateInit
    # The sender's own number for this message (see "Resuming"); optional.
    seq: ClientSeq | None = None


class EndOfCandidates(_ClientMessage, tag="end-of-candidates"):
    to: Target
    session: SessionId
    # The sender's own number for this message (see "Resuming"); optional.
    seq: ClientSeq | None = None


class Leave(_ClientMessage, tag="leave"):
    pass


class Resume(_ClientMessage, tag="resume"):
    """Take our place in a call back on a new connection, after the old one dropped."""

    call_id: CallId
    peer_id: PeerId
    resume_token: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    # The highest `seq` received from the server; everything after it is sent again.
    last_seq: Annotated[int, msgspec.Meta(ge=0)]


class Ack(_ClientMessage, tag="ack"):
    """Everything up to `seq` arrived: the server may forget it."""

    seq: Annotated[int, msgspec.Meta(ge=0)]


class Ping(_ClientMessage, tag="ping"):
    pass


class RenewIceServers(_ClientMessage, tag="renew-ice-servers"):
    """Fresh ICE servers, for the peer connections still to come: TURN credentials
    expire (`ice_servers_expire_in`), and a member may stay longer than they last.
    coturn keeps a relay made in time, but refuses new ones, so somebody who joined
    an hour after us could not be reached through it."""


Signal = Offer | Answer | Candidate | EndOfCandidates
ClientMessage = (
    Join
    | Look
    | Offer
    | Answer
    | Candidate
    | EndOfCandidates
    | Leave
    | Ping
    | Resume
    | Ack
    | RenewIceServers
)
CLIENT_MESSAGE_TYPES: frozenset[str] = frozenset(
    cls.__struct_config__.tag for cls in get_args(ClientMessage)
)


# --- server -> client -------------------------------------------------------------


class _ServerMessage(msgspec.Struct, tag_field="type", frozen=True, omit_defaults=True):
    pass


class PeerInfo(msgspec.Struct, frozen=True):
    peer_id: str
    name: str = ""


class Joined(_ServerMessage, tag="joined"):
    call_id: str
    peer_id: str
    peers: list[PeerInfo]
    ice_servers: list[IceServer]
    capacity: int
    protocol: int = PROTOCOL_VERSION
    # RTCConfiguration.iceTransportPolicy: "relay" means TURN only.
    ice_transport_policy: str = "all"
    # Give it back in `resume` to take this place again on a new connection within
    # `resume_seconds` of losing this one.
    resume_token: str = ""
    resume_seconds: float = 0
    # Send something (a `ping`) at least this often, or the server closes the socket.
    ping_seconds: float = 20
    # The members whose open offer took our prepared answer (`join.answers`).
    answered: list[str] = []
    # Seconds until the TURN credentials in `ice_servers` expire (absent: they do
    # not): ask for new ones (`renew-ice-servers`) before then.
    ice_servers_expire_in: int | None = None


class PeerJoined(_ServerMessage, tag="peer-joined"):
    peer_id: str
    name: str = ""
    # The session of this member's open offer that the newcomer was handed, if any:
    # that peer connection now belongs to `peer_id`.
    open_offer_session: str | None = None
    seq: int | None = None


LeaveReason = Literal["left", "disconnected"]


class PeerLeft(_ServerMessage, tag="peer-left"):
    peer_id: str
    reason: LeaveReason
    seq: int | None = None


class Left(_ServerMessage, tag="left"):
    call_id: str


class RelayedOffer(_ServerMessage, tag="offer"):
    from_: str = msgspec.field(name="from")
    session: str = ""
    sdp: str = ""
    seq: int | None = None


class RelayedAnswer(_ServerMessage, tag="answer"):
    from_: str = msgspec.field(name="from")
    session: str = ""
    sdp: str = ""
    seq: int | None = None


class RelayedCandidate(_ServerMessage, tag="candidate"):
    from_: str = msgspec.field(name="from")
    session: str = ""
    candidate: IceCandidateInit | None = None
    seq: int | None = None


class RelayedEndOfCandidates(_ServerMessage, tag="end-of-candidates"):
    from_: str = msgspec.field(name="from")
    session: str = ""
    seq: int | None = None


class Looked(_ServerMessage, tag="looked"):
    """The reply to `look`: every member's open offer (`from`, `session`, `sdp`), and
    the ICE servers to answer them with (see `Joined`)."""

    call_id: str
    offers: list[RelayedOffer]
    ice_servers: list[IceServer]
    ice_transport_policy: str = "all"
    ice_servers_expire_in: int | None = None


class Resumed(_ServerMessage, tag="resumed"):
    call_id: str
    peer_id: str
    # The highest client `seq` the server has handled: send the later ones again.
    # Absent when the server cannot tell (it restarted): send nothing again.
    last_received: int | None = None
    # Fresh ones (see `Joined`): the client may have been away when it meant to renew.
    ice_servers: list[IceServer] = []
    ice_servers_expire_in: int | None = None


class IceServers(_ServerMessage, tag="ice-servers"):
    """The reply to `renew-ice-servers`: use these for peer connections from now on."""

    ice_servers: list[IceServer]
    ice_servers_expire_in: int | None = None


class Pong(_ServerMessage, tag="pong"):
    pass


class Error(_ServerMessage, tag="error"):
    code: str
    message: str


RelayedSignal = RelayedOffer | RelayedAnswer | RelayedCandidate | RelayedEndOfCandidates
ServerMessage = (
    Joined
    | PeerJoined
    | PeerLeft
    | Left
    | Looked
    | RelayedOffer
    | RelayedAnswer
    | RelayedCandidate
    | RelayedEndOfCandidates
    | Pong
    | Resumed
    | IceServers
    | Error
)


def relayed(signal: Signal, sender: str) -> RelayedSignal:
    """The message a recipient gets for `signal`: same content, `from` instead of `to`."""
    session = signal.session
    match signal:  # most signals are candidates
        case Candidate(candidate=candidate):
            return RelayedCandidate(from_=sender, session=session, candidate=candidate)
        case Offer(sdp=sdp):
            return RelayedOffer(from_=sender, session=session, sdp=sdp)
        case Answer(sdp=sdp):
            return RelayedAnswer(from_=sender, session=session, sdp=sdp)
        case EndOfCandidates():
            return RelayedEndOfCandidates(from_=sender, session=session)
    raise TypeError(f"not a signal: {signal!r}")


def error_message(error: ProtocolError) -> Error:
    return Error(code=str(error.code), message=error.message)


class MessageCodec:
    """Turns frames into validated client messages and server messages into frames."""

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._decoder = msgspec.json.Decoder(ClientMessage)
        self._encoder = msgspec.json.Encoder()

    def decode(self, frame: str | bytes) -> ClientMessage:
        """Validate one frame; raise ProtocolError with the code a client can act on."""
        size = len(frame)
        if isinstance(frame, str) and size * 4 > self.max_message_bytes:
            size = len(frame.encode())  # UTF-8 takes up to 4 bytes per character
        if size > self.max_message_bytes:
            raise ProtocolError(
                ErrorCode.MESSAGE_TOO_LARGE,
                f"The message is {size} bytes; the limit is {self.max_message_bytes}.",
            )
        try:
            return self._decoder.decode(frame)
        except msgspec.ValidationError as exc:
            raise self._classify(frame, exc) from None
        except msgspec.DecodeError as exc:
            raise ProtocolError(
                ErrorCode.BAD_JSON, f"The message is not valid JSON: {exc}"
            ) from None

    @staticmethod
    def _classify(frame: str | bytes, exc: msgspec.ValidationError) -> ProtocolError:
        # Only on the error path: tell an unknown `type` apart from a bad field.
        try:
            envelope = msgspec.json.decode(frame)
        except msgspec.DecodeError:
            envelope = None
        if isinstance(envelope, dict):
            kind = envelope.get("type")
            if isinstance(kind, str) and kind not in CLIENT_MESSAGE_TYPES:
                return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type {kind[:40]!r}.")
        return ProtocolError(ErrorCode.INVALID_MESSAGE, f"Invalid message: {exc}")

    def encode(self, message: ServerMessage, room: int = 0) -> bytearray:
        """UTF-8 JSON, as a text frame carries it, after `room` free bytes (where the
        transport writes the frame header: the message is never copied again)."""
        buffer = bytearray(room)
        self._encoder.encode_into(message, buffer, room)
        return buffer
