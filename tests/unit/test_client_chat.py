import json

import pytest

from peercall.client import datachannel
from peercall.client.commands import printable


def test_a_chat_message_round_trips_with_its_time():
    message = datachannel.decode_message(datachannel.encode_text("hello <b>"))
    assert message is not None
    assert message.text == "hello <b>"
    assert message.sent_at_datetime.year >= 2024


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        json.dumps({"type": "file", "name": "x"}),  # a type this client does not know
        json.dumps({"type": "chat"}),
        json.dumps({"type": "chat", "text": "", "sent_at": 1}),
        json.dumps({"type": "chat", "text": "x" * 4001, "sent_at": 1}),
        json.dumps({"type": "chat", "text": "x", "sent_at": -1}),
        json.dumps(["chat"]),
        b"\xff\xfe",
        # A chunk of a file that happens to hold a chat message is still a chunk.
        json.dumps({"type": "chat", "text": "x", "sent_at": 1}).encode(),
    ],
)
def test_anything_but_a_valid_chat_message_is_ignored(data):
    assert datachannel.decode_message(data) is None


@pytest.mark.parametrize("text", ["", "x" * 4001])
def test_empty_or_oversized_text_is_refused_before_sending(text):
    with pytest.raises(ValueError, match="1 to 4000"):
        datachannel.encode_text(text)


def test_text_from_the_other_side_cannot_drive_the_terminal():
    assert printable("hi\x1b[2J\x07 there\n") == "hi\ufffd[2J\ufffd there\ufffd"
    assert printable("héllo ✓") == "héllo ✓"
