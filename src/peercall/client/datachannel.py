"""What travels on the data channel between two peers (see docs/protocol.md).

One pre-negotiated channel per peer connection (label "chat", id 0), so neither
side has to wait for the other to announce it. Each message is one JSON object
with a `type`; receivers ignore types they do not know.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import msgspec

CHANNEL_LABEL = "chat"
CHANNEL_ID = 0
MAX_TEXT_LENGTH = 4000


class ChatText(msgspec.Struct, tag="chat", tag_field="type", frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_LENGTH)]
    # Milliseconds since the Unix epoch, by the sender's clock.
    sent_at: Annotated[int, msgspec.Meta(ge=0)]

    @property
    def sent_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.sent_at / 1000, UTC)


_decoder = msgspec.json.Decoder(ChatText)
_encoder = msgspec.json.Encoder()


def encode_text(text: str) -> str:
    if not text or len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"a chat message has 1 to {MAX_TEXT_LENGTH} characters")
    return _encoder.encode(ChatText(text=text, sent_at=int(time.time() * 1000))).decode()


def decode_message(data: str | bytes) -> ChatText | None:
    """The chat message in `data`, or None for anything else (unknown type, malformed,
    or binary: binary messages are chunks of a file, whatever their bytes look like)."""
    if not isinstance(data, str):
        return None
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
