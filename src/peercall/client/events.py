"""What a `Call` tells its user: its state, and everything that happens in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aiortc import MediaStreamTrack


class CallState(StrEnum):
    """The state of the call as a whole, as the web page shows it too."""

    WAITING = "waiting"  # in the call, nobody else there yet
    CONNECTING = "connecting"  # someone is there; media is being set up
    CONNECTED = "connected"  # media flows with at least one person
    RECONNECTING = "reconnecting"  # the media path is lost and being recovered
    PEER_LEFT = "peer-left"  # the other person left; we wait in the call
    LEFT = "left"  # we hung up
    SERVER_RECONNECTING = "server-reconnecting"  # signaling dropped; resuming it
    SERVER_LOST = "server-lost"  # the signaling server is gone for good; media may still flow


STATE_TEXT: dict[CallState, str] = {
    CallState.WAITING: "Waiting for someone to join",
    CallState.CONNECTING: "Connecting",
    CallState.CONNECTED: "Connected",
    CallState.RECONNECTING: "Reconnecting",
    CallState.PEER_LEFT: "The other person left",
    CallState.LEFT: "You left the call",
    CallState.SERVER_RECONNECTING: "Connection to the server lost. Reconnecting…",
    CallState.SERVER_LOST: "Connection to the server lost",
}


@dataclass(frozen=True)
class StateChanged:
    state: CallState


@dataclass(frozen=True)
class PeerJoined:
    peer_id: str
    name: str


@dataclass(frozen=True)
class PeerLeft:
    peer_id: str
    reason: str  # "left" (hung up) or "disconnected"


@dataclass(frozen=True)
class TrackReceived:
    """A track from `peer_id`. `track` is yours to read (`await track.recv()`). Of a
    picture track you get the newest picture (those you were too slow for are left
    out); of sound, every frame, as long as you are less than a second behind. An
    unread track holds its newest picture or its last second of sound, no more."""

    peer_id: str
    kind: str  # "audio" or "video"
    track: MediaStreamTrack


@dataclass(frozen=True)
class MessageReceived:
    """A chat message from `peer_id` over the data channel; `earlier`: one they sent
    before our channel with them opened (we joined after it was said), in the order
    they said them. Each message comes once."""

    peer_id: str
    text: str
    sent_at: datetime
    earlier: bool = False


@dataclass(frozen=True)
class PeerMediaChanged:
    """What `peer_id` sends now: sound (`audio`: a microphone, not muted) and a
    picture (`video`: a camera that is on, or a shared screen, then `screen`). Comes
    once their data channel opens, then on every change."""

    peer_id: str
    audio: bool
    video: bool
    screen: bool = False


@dataclass(frozen=True)
class HandChanged:
    """`peer_id` raised their hand (`raised`), to speak next, or lowered it."""

    peer_id: str
    raised: bool


@dataclass(frozen=True)
class FileReceived:
    """A whole file from `peer_id`: exactly the bytes its sender announced. `name` is
    the sender's and may be anything: see `safe_file_name` before saving it."""

    peer_id: str
    name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FileFailed:
    """A file from `peer_id` that did not arrive whole (`reason` says why)."""

    peer_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class ConnectionQualityChanged:
    """The connection with `peer_id` turned poor (`poor`), or is good again. Judged
    every 2 s as the page's tile judges it: 5 % of the packets lost either way, or a
    round trip of 600 ms, make it poor; two good intervals in a row make it good
    again. The figures are those of the interval that decided."""

    peer_id: str
    poor: bool
    received_loss_percent: float  # of what they send us
    sent_loss_percent: float  # of what we send them
    round_trip_ms: float | None


CallEvent = (
    StateChanged
    | PeerJoined
    | PeerLeft
    | TrackReceived
    | MessageReceived
    | PeerMediaChanged
    | HandChanged
    | FileReceived
    | FileFailed
    | ConnectionQualityChanged
)
