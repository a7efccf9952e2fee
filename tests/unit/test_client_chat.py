import json

import pytest

from peercall.client import datachannel
from peercall.client.commands import printable


def test_a_chat_message_round_trips_with_its_time_and_id():
    sent = datachannel.new_chat_message("hello <b>")
    message = datachannel.decode_message(datachannel.encode(sent))
    assert isinstance(message, datachannel.ChatText)
    assert message.text == "hello <b>"
    assert message.sent_at_datetime.year >= 2024
    assert message.id == sent.id
    assert datachannel.new_chat_message("hello <b>").id != sent.id


def test_an_earlier_message_keeps_the_id_and_time_of_the_one_it_repeats():
    sent = datachannel.new_chat_message("said before you came")
    message = datachannel.decode_message(datachannel.encode(datachannel.earlier(sent)))
    assert isinstance(message, datachannel.EarlierChatText)
    assert (message.id, message.text, message.sent_at) == (sent.id, sent.text, sent.sent_at)


def test_a_chat_message_without_an_id_from_an_older_client_is_taken():
    message = datachannel.decode_message(json.dumps({"type": "chat", "text": "x", "sent_at": 1}))
    assert message == datachannel.ChatText(text="x", sent_at=1, id=None)


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        json.dumps({"type": "file", "name": "x"}),  # a type this client does not know
        json.dumps({"type": "chat"}),
        json.dumps({"type": "chat", "text": "", "sent_at": 1}),
        json.dumps({"type": "chat", "text": "x" * 4001, "sent_at": 1}),
        json.dumps({"type": "chat", "text": "x", "sent_at": -1}),
        json.dumps({"type": "chat", "text": "x", "sent_at": 1, "id": ""}),
        json.dumps({"type": "chat", "text": "x", "sent_at": 1, "id": "x" * 65}),
        # An earlier message is shown once by its id: without one it is not taken.
        json.dumps({"type": "earlier-chat", "text": "x", "sent_at": 1}),
        json.dumps({"type": "earlier-chat", "text": "", "sent_at": 1, "id": "a"}),
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
        datachannel.new_chat_message(text)


def test_text_from_the_other_side_cannot_drive_the_terminal():
    assert printable("hi\x1b[2J\x07 there\n") == "hi\ufffd[2J\ufffd there\ufffd"
    assert printable("héllo ✓") == "héllo ✓"
