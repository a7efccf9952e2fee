"""Short films written by PyAV, for `--play` and `MediaSource.from_file`."""

import math
from array import array
from fractions import Fraction
from pathlib import Path

import av

FRAMES_PER_SECOND = 30
AUDIO_RATE = 48_000
AAC_FRAME = 1024  # samples per AAC frame


def write_film(path: Path, seconds: int, *, tone_hz: float | None = None) -> Path:
    """`seconds` of moving grey at 320x240 (H.264); with `tone_hz`, a sound track as
    long: a tone of that pitch (0: silence), 48 kHz stereo AAC."""
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
        if tone_hz is not None:
            audio = container.add_stream("aac", rate=AUDIO_RATE)
            audio.layout = "stereo"
            streams.append(audio)
            for index in range(AUDIO_RATE * seconds // AAC_FRAME):
                start = index * AAC_FRAME
                samples = array(
                    "f",
                    (
                        0.3 * math.sin(2 * math.pi * tone_hz * (start + n) / AUDIO_RATE)
                        for n in range(AAC_FRAME)
                    ),
                ).tobytes()
                sound = av.AudioFrame(format="fltp", layout="stereo", samples=AAC_FRAME)
                for plane in sound.planes:
                    plane.update(samples)
                sound.sample_rate = AUDIO_RATE
                sound.pts, sound.time_base = start, Fraction(1, AUDIO_RATE)
                frames.append((audio, sound))
        for stream, frame in frames:
            for packet in stream.encode(frame):
                container.mux(packet)
        for stream in streams:
            for packet in stream.encode(None):
                container.mux(packet)
    return path
