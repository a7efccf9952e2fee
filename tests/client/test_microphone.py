"""`peercall join --microphone`: sound from an ALSA capture device. The device here is
ALSA's own `file` plugin reading a tone the test wrote, paced by ALSA's `null` device:
the whole of ALSA, from its configuration to the capture, as a microphone's sound
would go through it (the machine has no sound card); and a desktop's sound server
(PulseAudio, its microphone a tone), reached as on a desktop through ALSA's `default`
device and the system's `pulse` plugin."""

from __future__ import annotations

import asyncio
import math
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from peercall.client import TrackReceived, create_call, join
from tests.client.checks import HeardAudio, listen, next_event, received_tracks, watch
from tests.clients import PythonPeer, run_peercall
from tests.pulse import SoundServer
from tests.servers import ServerProcess

TONE_HZ = 660
RATE = 48_000
ASOUNDRC = """
pcm.tone {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{sound}"
    format "raw"
}}
"""


@pytest.fixture
def microphone_home(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose ALSA has a capture device "tone": 15 s of a
    660 Hz tone, 16-bit stereo at 48 kHz (what FFmpeg asks ALSA for)."""
    home = tmp_path / "home"
    home.mkdir()
    sound = home / "tone.raw"
    samples = array(
        "h",
        (
            int(0.3 * 32767 * math.sin(2 * math.pi * TONE_HZ * (n // 2) / RATE))
            for n in range(15 * RATE * 2)
        ),
    )
    sound.write_bytes(samples.tobytes())
    (home / ".asoundrc").write_text(ASOUNDRC.format(sound=sound))
    return {"HOME": str(home)}


async def hear(
    server: ServerProcess,
    tmp_path: Path,
    env: dict[str, str],
    *arguments: str,
) -> HeardAudio:
    """What a listener in a call hears from `peercall join LINK *arguments` (a Python
    peer sending sound only): its first second."""
    link = await create_call(server.url)
    listener = await join(link)
    speaker = PythonPeer(link, *arguments, log_dir=tmp_path, env=env)
    try:
        async with asyncio.timeout(20):
            received = await next_event(listener.events(), TrackReceived)
            assert received.kind == "audio"  # sound only
            heard = await listen(received.track)
    finally:
        await listener.hang_up()
        speaker.stop()
    assert "Traceback" not in speaker.stderr
    return heard


async def test_join_microphone_sends_its_sound(server, microphone_home, tmp_path):
    heard = await hear(server, tmp_path, microphone_home, "--microphone", "tone")
    assert heard.frequency == pytest.approx(TONE_HZ, rel=0.05)
    assert heard.rms > 0.05


@pytest.fixture
def sound_server(tmp_path: Path) -> Iterator[SoundServer]:
    """A desktop's PulseAudio, its default microphone a 660 Hz tone."""
    server = SoundServer(tmp_path / "pulse", TONE_HZ).start()
    yield server
    server.stop()


async def test_join_microphone_on_a_desktop_records_its_sound_server(
    server, sound_server, tmp_path
):
    """`--microphone` alone on a Linux desktop: ALSA's default device, which is the
    sound server's (PulseAudio, or PipeWire speaking its protocol), through a plugin
    of the system's that PyAV's own libasound must find (peercall.client.alsa)."""
    home = tmp_path / "home"  # no .asoundrc: the system's configuration only
    home.mkdir()
    env = {"HOME": str(home), **sound_server.client_env()}
    heard = await hear(server, tmp_path, env, "--microphone")
    assert heard.frequency == pytest.approx(TONE_HZ, rel=0.05)
    assert heard.rms > 0.05


async def test_join_microphone_with_a_picture_sends_both(server, microphone_home, tmp_path):
    link = await create_call(server.url)
    viewer = await join(link)
    speaker = PythonPeer(
        link, "--test-pattern", "--microphone", "tone", log_dir=tmp_path, env=microphone_home
    )
    try:
        async with asyncio.timeout(20):
            tracks = await received_tracks(viewer.events())
            heard = await listen(tracks["audio"])
            seen = await watch(tracks["video"])
        assert heard.frequency == pytest.approx(TONE_HZ, rel=0.05)  # not the pattern's 440 Hz
        assert seen.luma_spread > 100  # the bars
    finally:
        await viewer.hang_up()
        speaker.stop()
    assert "Traceback" not in speaker.stderr


async def test_a_microphone_that_cannot_be_opened_or_goes_with_a_file_says_so(
    server, microphone_home
):
    link = await create_call(server.url)
    missing = await asyncio.to_thread(
        run_peercall, "join", link, "--microphone", "nosuch", env=microphone_home
    )
    assert missing.returncode == 2, missing.stderr
    assert "Cannot open microphone nosuch" in missing.stderr
    assert "arecord -L lists the microphones" in missing.stderr
    with_a_file = await asyncio.to_thread(
        run_peercall, "join", link, "--microphone", "--play", "film.mp4"
    )
    assert with_a_file.returncode == 2, with_a_file.stderr
    assert "--microphone goes with --camera, --screen or --test-pattern" in with_a_file.stderr
