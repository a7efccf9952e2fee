"""The signaling socket's own bytes (its text frames, its answer to the upgrade), read back
by another library's parser or compared with what picows writes."""

import pytest
from picows import WSUpgradeResponse
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from peercall.server.connection import HEADER_ROOM, SwitchingProtocols, framed


def read_frames(data: bytes, count: int) -> list[Frame]:
    """The first `count` server frames in `data`, as websockets parses them."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    for _ in range(count):
        parser = Frame.parse(reader.read_exact, mask=False)
        with pytest.raises(StopIteration) as parsed:
            next(parser)
        frames.append(parsed.value.value)
    return frames


def frame_of(message: bytes) -> bytes:
    return bytes(framed(bytearray(HEADER_ROOM) + message))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 100_000])
def test_a_message_of_any_size_is_one_whole_text_frame(size):
    message = bytes(i % 251 for i in range(size))
    [frame] = read_frames(frame_of(message), 1)
    assert frame.opcode == Opcode.TEXT
    assert frame.fin
    assert frame.data == message


def test_frames_written_together_are_read_apart():
    messages = [b'{"type":"candidate"}', b"x" * 300, b"y" * 70_000]
    frames = read_frames(b"".join(frame_of(m) for m in messages), len(messages))
    assert [frame.data for frame in frames] == messages


def test_the_upgrade_answer_is_what_picows_would_write():
    accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's example
    ours, theirs = SwitchingProtocols(), WSUpgradeResponse.create_101_response()
    for response in (ours, theirs):
        response.headers["Sec-WebSocket-Accept"] = accept  # as picows adds it
    assert ours.to_bytes() == theirs.to_bytes()
    assert ours.to_bytes().endswith(f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode())
    assert ours.status == theirs.status == 101
