import json

import pytest

from peercall.protocol import (
    Candidate,
    ErrorCode,
    IceCandidateInit,
    Join,
    MessageCodec,
    Offer,
    PeerLeft,
    ProtocolError,
    relayed,
)

CALL_ID = "A" * 22
PEER_ID = "B" * 16
codec = MessageCodec(max_message_bytes=4096)


def decode_error(frame: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        codec.decode(frame)
    return caught.value


def test_valid_messages_decode_to_their_types():
    assert codec.decode(json.dumps({"type": "join", "call_id": CALL_ID})) == Join(call_id=CALL_ID)
    offer = codec.decode(json.dumps({"type": "offer", "to": "next", "session": "s", "sdp": "v=0"}))
    assert offer == Offer(to="next", session="s", sdp="v=0")
    candidate = codec.decode(
        json.dumps(
            {
                "type": "candidate",
                "to": PEER_ID,
                "session": "s",
                "candidate": {"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0},
            }
        )
    )
    assert isinstance(candidate, Candidate)
    assert candidate.candidate.sdpMLineIndex == 0


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", ErrorCode.BAD_JSON),
        (b"\x00\xff", ErrorCode.BAD_JSON),
        ('{"type": "dance"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "join"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "join", "call_id": "short"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "answer", "to": "next", "session": "s", "sdp": "v=0"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "offer", "to": "' + PEER_ID + 'x", "session": "s", "sdp": "v=0"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "offer", "to": "next", "session": "bad session", "sdp": "v"}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "offer", "to": "next", "session": "s", "sdp": ""}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "ping", "surprise": true}', ErrorCode.INVALID_MESSAGE),
        ("[]", ErrorCode.INVALID_MESSAGE),
        ('"join"', ErrorCode.INVALID_MESSAGE),
        ('{"type": "join", "call_id": "' + CALL_ID + '", "name": "' + "n" * 65 + '"}', ErrorCode.INVALID_MESSAGE),
    ],
)  # fmt: skip
def test_bad_frames_get_the_error_code_a_client_can_act_on(frame, code):
    error = decode_error(frame)
    assert error.code == code
    assert error.message


def test_size_is_checked_in_bytes_before_parsing():
    frame = json.dumps({"type": "join", "call_id": CALL_ID, "name": "é" * 2100}, ensure_ascii=False)
    assert len(frame) < 4096 < len(frame.encode())
    error = decode_error(frame)
    assert error.code == ErrorCode.MESSAGE_TOO_LARGE
    assert "4096" in error.message


def test_unknown_type_names_are_truncated_in_the_error():
    error = decode_error(json.dumps({"type": "x" * 500}))
    assert len(error.message) < 100


def test_relayed_signals_carry_from_and_session_instead_of_to():
    candidate = IceCandidateInit(candidate="candidate:1", sdpMid="0")
    message = relayed(Candidate(to="next", session="s1", candidate=candidate), sender=PEER_ID)
    assert json.loads(codec.encode(message)) == {
        "type": "candidate",
        "from": PEER_ID,
        "session": "s1",
        "candidate": {"candidate": "candidate:1", "sdpMid": "0"},
    }


def test_peer_left_always_says_why():
    encoded = json.loads(codec.encode(PeerLeft(peer_id=PEER_ID, reason="left")))
    assert encoded == {"type": "peer-left", "peer_id": PEER_ID, "reason": "left"}
