"""Short films written by PyAV, for `--play` and `MediaSource.from_file`."""

from fractions import Fraction
from pathlib import Path

import av

FRAMES_PER_SECOND = 30
AUDIO_RATE = 48_000
AAC_FRAME = 1024  # samples per AAC frame


def write_film(path: Path, seconds: int, *, sound: bool = False) -> Path:
    """`seconds` of moving grey at 320x240 (H.264), with `sound` a 48 kHz mono AAC
    track of silence as long."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FRAMES_PER_SECOND)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        frames: list[tuple[av.VideoStream | av.AudioStream, av.VideoFrame | av.AudioFrame]] = []
        for index in range(FRAMES_PER_SECOND * seconds):
            picture = av.VideoFrame(320, 240, "yuv420p")
            for plane in picture.planes:
                plane.update(bytes([(index * 3) % 256]) * plane.buffer_size)
            picture.pts, picture.time_base = index, Fraction(1, FRAMES_PER_SECOND)
            frames.append((video, picture))
        streams: list[av.VideoStream | av.AudioStream] = [video]
        if sound:
            audio = container.add_stream("aac", rate=AUDIO_RATE)
            audio.layout = "mono"
            streams.append(audio)
            for index in range(AUDIO_RATE * seconds // AAC_FRAME):
                silence = av.AudioFrame(format="fltp", layout="mono", samples=AAC_FRAME)
                silence.planes[0].update(bytes(silence.planes[0].buffer_size))
                silence.sample_rate = AUDIO_RATE
                silence.pts, silence.time_base = index * AAC_FRAME, Fraction(1, AUDIO_RATE)
                frames.append((audio, silence))
        for stream, frame in frames:
            for packet in stream.encode(frame):
                container.mux(packet)
        for stream in streams:
            for packet in stream.encode(None):
                container.mux(packet)
    return path
