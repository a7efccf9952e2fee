"""The signaling socket's own text frames, read back by another library's parser."""

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from peercall.server.connection import HEADER_ROOM, framed


def parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    return parsed.value.value


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 100_000])
def test_a_message_of_any_size_is_one_whole_text_frame(size):
    message = bytes(i % 251 for i in range(size))
    frame = parse(bytes(framed(bytearray(HEADER_ROOM) + message)))
    assert frame.opcode == Opcode.TEXT
    assert frame.fin
    assert frame.data == message


def test_frames_written_together_are_read_apart():
    messages = [b'{"type":"candidate"}', b"x" * 300, b"y" * 70_000]
    data = b"".join(bytes(framed(bytearray(HEADER_ROOM) + m)) for m in messages)
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    for message in messages:
        parser = Frame.parse(reader.read_exact, mask=False)
        with pytest.raises(StopIteration) as parsed:
            next(parser)
        assert parsed.value.value.data == message
