"""What travels on the data channel between two peers (see docs/protocol.md).

One pre-negotiated channel per peer connection (label "chat", id 0), so neither
side has to wait for the other to announce it. Each text message is one JSON object
with a `type`; receivers ignore types they do not know. Binary messages are the
bytes of the file being sent (between its `file-start` and `file-end`).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Annotated

import msgspec

CHANNEL_LABEL = "chat"
CHANNEL_ID = 0
MAX_TEXT_LENGTH = 4000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FILE_NAME_LENGTH = 255
# What every browser's SCTP takes in one message.
FILE_CHUNK_BYTES = 16 * 1024


MessageId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ChatBody = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_LENGTH)]


class _Chat(msgspec.Struct, tag_field="type", frozen=True):
    text: ChatBody
    # Milliseconds since the Unix epoch, by the sender's clock.
    sent_at: Annotated[int, msgspec.Meta(ge=0)]

    @property
    def sent_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.sent_at / 1000, UTC)


class ChatText(_Chat, tag="chat", frozen=True):
    # Unique per sender; optional because clients from before ids send none.
    id: MessageId | None = None


class EarlierChatText(_Chat, tag="earlier-chat", frozen=True):
    """One of the sender's messages from before this channel opened, sent again on it
    (to someone who joined late, or came back): shown once, by its `id`."""

    id: MessageId


class FileStart(msgspec.Struct, tag="file-start", tag_field="type", frozen=True):
    """A file follows: `size` bytes in binary messages, then `FileEnd`."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_FILE_NAME_LENGTH)]
    size: Annotated[int, msgspec.Meta(ge=0, le=MAX_FILE_BYTES)]
    # The sender's word for its type: never a reason to open or run it.
    mime: Annotated[str, msgspec.Meta(max_length=255)] = ""


class FileEnd(msgspec.Struct, tag="file-end", tag_field="type", frozen=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class MediaState(msgspec.Struct, tag="media-state", tag_field="type", frozen=True):
    """Whether the sender sends sound and a picture, so that the other side can show
    "muted" or "camera off" rather than silence or a black picture, and whether the
    picture is a shared screen (optional: older pages do not say)."""

    audio: bool
    video: bool
    screen: bool = False


class Hand(msgspec.Struct, tag="hand", tag_field="type", frozen=True):
    """Whether the sender's hand is raised (to speak next, in a group call)."""

    raised: bool


class VideoWanted(msgspec.Struct, tag="video-wanted", tag_field="type", frozen=True):
    """Whether the sender wants our video: false asks us to stop sending it to them
    (a poor or metered connection), their sound going on."""

    wanted: bool


ChannelMessage = ChatText | EarlierChatText | FileStart | FileEnd | MediaState | Hand | VideoWanted

_decoder = msgspec.json.Decoder(ChannelMessage)
_encoder = msgspec.json.Encoder()


def new_chat_message(text: str) -> ChatText:
    """A chat message of ours, with an id of its own; ValueError for an empty or
    long text."""
    if not text or len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"a chat message has 1 to {MAX_TEXT_LENGTH} characters")
    return ChatText(text=text, sent_at=int(time.time() * 1000), id=secrets.token_urlsafe(12))


def earlier(message: ChatText) -> EarlierChatText:
    """`message` of ours, to be sent again on a channel that opened after it."""
    assert message.id is not None, "our messages have ids"
    return EarlierChatText(text=message.text, sent_at=message.sent_at, id=message.id)


def encode(message: ChannelMessage) -> str:
    return _encoder.encode(message).decode()


def decode_message(data: str | bytes) -> ChannelMessage | None:
    """The message in text `data`, or None for one we do not take (unknown type,
    malformed) and for binary data: that is a chunk of a file, whatever its bytes
    look like."""
    if not isinstance(data, str):
        return None
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
