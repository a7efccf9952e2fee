"""`peercall new` and `peercall join`, run as a user runs them, against a real server."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import av
import pytest

from peercall.client import (
    CallState,
    MediaSource,
    PeerMediaChanged,
    TrackReceived,
    WrongPasscode,
    create_call,
    join,
)
from peercall.client.commands import JoinOptions, follow_call
from tests.client.checks import next_event, watch
from tests.client.films import write_film
from tests.clients import run_peercall
from tests.conftest import ONE_TO_ONE
from tests.servers import ServerProcess, free_port

NO_SUCH_CALL = "A" * 22


def new_call(server: ServerProcess) -> str:
    created = run_peercall("new", "--server", server.url)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def assert_clean_failure(result_code: int, stderr: str, expected: str) -> None:
    assert result_code == 1, stderr
    assert expected in stderr
    assert "Traceback" not in stderr


def test_a_recording_holds_seconds_of_decodable_video(server, python_peers, tmp_path):
    link = new_call(server)
    sender = python_peers(link, "--test-pattern")
    sender.wait_for_line("^Waiting for someone to join$")
    recording = tmp_path / "call.mp4"
    recorder = python_peers(link, "--record", str(recording), "--duration", "4")
    assert recorder.wait() == 0, recorder.stderr
    assert "You left the call" in recorder.stdout  # --duration hung up
    assert f"Recorded to {recording}" in recorder.stdout
    assert sender.wait() == 0, sender.stderr  # the other side left: a normal end
    assert "The other person left" in sender.stdout

    with av.open(str(recording)) as container:
        video = container.streams.video[0]
        assert container.streams.audio, "the tone was recorded too"
        frames = list(container.decode(video))
    assert len(frames) >= 90  # 30 fps for at least three of the four seconds
    assert (frames[-1].width, frames[-1].height) == (640, 480)
    seconds = float((frames[-1].pts - frames[0].pts) * video.time_base)
    assert seconds >= 3, seconds


def test_no_incoming_video_asks_for_sound_only(server, python_peers):
    link = new_call(server)
    sender = python_peers(link, "--test-pattern")
    sender.wait_for_line("^Waiting for someone to join$")
    # Six seconds from connecting: the tone's first frames can take a second or more
    # to come on a loaded machine (145 in a 4 s call once), which the bound allows.
    listener = python_peers(link, "--no-incoming-video", "--duration", "6")
    assert listener.wait() == 0, listener.stderr
    match = listener.wait_for_line(r"^Received (\d+) video frames .* and (\d+) audio frames$")
    video_frames, audio_frames = (int(group) for group in match.groups())
    # Whatever came before the data channel opened and the sender heard the request
    # (30 fps would be ~180); the tone all along (50 frames a second, ~300).
    assert video_frames < 15, listener.stdout
    assert audio_frames > 150, listener.stdout


@pytest.fixture
def short_film(tmp_path: Path) -> Path:
    """Three seconds of moving grey: a file for `--play`."""
    return write_film(tmp_path / "film.mp4", 3)


async def test_play_sends_a_file(server, python_peers, short_film):
    link = new_call(server)
    async with await join(link) as watcher:
        events = watcher.events()
        player = python_peers(link, "--play", str(short_film))
        video_track = (await next_event(events, TrackReceived)).track
        async with asyncio.timeout(20):
            video = await watch(video_track)
        assert (video.width, video.height) == (320, 240)
    assert await asyncio.to_thread(player.wait) == 0, player.stderr


def test_a_link_to_no_call_fails_cleanly(server, tmp_path):
    recording = tmp_path / "never.mp4"
    result = run_peercall("join", f"{server.url}/c/{NO_SUCH_CALL}", "--record", str(recording))
    assert_clean_failure(result.returncode, result.stderr, "This call does not exist")
    assert not recording.exists()  # no empty file left behind


@ONE_TO_ONE
def test_a_full_call_fails_cleanly(server, python_peers):
    link = new_call(server)
    first = python_peers(link)
    first.wait_for_line("^Waiting for someone to join$")
    python_peers(link).wait_for_line("^Connected$")
    result = run_peercall("join", link)
    assert_clean_failure(result.returncode, result.stderr, "This call is full")


async def test_a_call_with_a_passcode_from_the_command_line_and_from_python(server, python_peers):
    created = run_peercall("new", "--server", server.url, env={"PEERCALL_PASSCODE": "s3cret!"})
    assert created.returncode == 0, created.stderr
    link = created.stdout.strip()
    result = await asyncio.to_thread(run_peercall, "join", link)
    assert_clean_failure(result.returncode, result.stderr, "has a passcode")
    result = await asyncio.to_thread(run_peercall, "join", link, "--passcode", "guess")
    assert_clean_failure(result.returncode, result.stderr, "not right")
    with pytest.raises(WrongPasscode):
        await join(link, passcode="other")
    peer = python_peers(link, "--passcode", "s3cret!")
    await asyncio.to_thread(peer.wait_for_line, "^Waiting for someone to join$")
    async with await join(link, passcode="s3cret!") as call:
        await call.wait_for_state(CallState.CONNECTED)
    await asyncio.to_thread(peer.wait_for_line, "^Connected$")


def test_the_server_going_away_mid_call_fails_cleanly(brief_server, python_peers):
    server = brief_server
    link = new_call(server)
    first = python_peers(link, "--test-pattern")
    first.wait_for_line("^Waiting for someone to join$")
    second = python_peers(link, "--test-pattern")
    for peer in (first, second):
        peer.wait_for_line("^Connected$")
    server.stop()
    for peer in (first, second):
        # It tries to take its place back for as long as the server would keep it.
        peer.wait_for_line("^Connection to the server lost. Reconnecting…$")
        assert peer.wait() == 1, peer.stderr
        assert "Connection to the server lost\n" in peer.stdout
        assert "Traceback" not in peer.stderr
        assert peer.wait_for_line(r"^Received \d+ video frames")


def test_no_server_fails_cleanly():
    port = free_port()
    result = run_peercall("join", f"http://127.0.0.1:{port}/c/{NO_SUCH_CALL}")
    assert_clean_failure(result.returncode, result.stderr, "Cannot reach the server")
    result = run_peercall("new", "--server", f"http://127.0.0.1:{port}")
    assert_clean_failure(result.returncode, result.stderr, "Cannot reach the server")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["not a link"], "not a call link"),
        (["http://127.0.0.1:1/c/short"], "malformed"),
        ([f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--play", "/no/such/file.mp4"], "No such file"),
        (
            [f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--camera", "/dev/no-such-camera"],
            "Cannot open",
        ),
        (
            [f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--send-file", "/no/such/file.pdf"],
            "cannot read /no/such/file.pdf: No such file",
        ),
        (
            [f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--save-files", "/no/such/directory"],
            "/no/such/directory is not a directory",
        ),
        (
            [f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--loop"],
            "--loop plays a file over and over: give the file with --play",
        ),
        (
            [f"http://127.0.0.1:1/c/{NO_SUCH_CALL}", "--stats", "0"],
            "'0' is not a number of seconds above 0",
        ),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(args, expected):
    result = run_peercall("join", *args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


async def test_ctrl_c_hangs_up_and_the_other_side_sees_it(server, python_peers):
    link = new_call(server)
    async with await join(link) as host:
        guest = python_peers(link, "--test-pattern")
        async with asyncio.timeout(20):
            await host.wait_connected()
        guest.stop()  # SIGINT, as Ctrl-C sends
        assert guest.process.returncode == 0, guest.stderr
        async with asyncio.timeout(20):
            await host.wait_for_state(CallState.PEER_LEFT)


async def test_stats_prints_bit_rates_round_trip_and_losses(server, python_peers):
    link = new_call(server)
    media = MediaSource.test_pattern()
    try:
        async with await join(link, media=media) as host:
            guest = python_peers(link, "--test-pattern", "--stats", "1", "--duration", "30")
            async with asyncio.timeout(20):
                await host.wait_connected()
            # Rates need two samples; the round trip, the other side's first report
            # ("?" until then).
            line = await asyncio.to_thread(
                guest.wait_for_line,
                r"^Stats: in (\d+) kbit/s, out (\d+) kbit/s, round trip (\d+) ms,"
                r" (\d+) packets lost$",
            )
            received, sent, round_trip, lost = (int(value) for value in line.groups())
            # A 640x480 test pattern and a tone each way, in kbit/s.
            assert received > 100, guest.stdout
            assert sent > 100, guest.stdout
            assert round_trip < 500
            assert lost == 0
            guest.stop()
    finally:
        media.close()


async def test_the_others_are_told_when_a_played_file_ends(server, python_peers, short_film):
    """Its last picture would stay on their screen: they are told there is none."""
    link = new_call(server)
    async with await join(link) as watcher:
        events = watcher.events()
        python_peers(link, "--play", str(short_film))
        playing = await next_event(events, PeerMediaChanged)
        assert (playing.audio, playing.video) == (False, True)  # the film has no sound
        ended = await next_event(events, PeerMediaChanged)  # after its three seconds
        assert (ended.audio, ended.video) == (False, False)


async def test_ctrl_c_after_the_call_is_followed_is_asyncio_s_again(server):
    """`peercall join` hangs up on Ctrl-C while it follows the call. Once that is over
    (the other person left) and the call is being left, Ctrl-C is the handler's that
    was there before (asyncio.run's, which ends the program cleanly). asyncio's own
    `remove_signal_handler` left Python's default instead, and a Ctrl-C in that moment
    raised KeyboardInterrupt inside aiortc's work, with a traceback (seen in CI)."""
    link = await create_call(server.url)
    other = await join(link)
    ours = await join(link)
    before = signal.getsignal(signal.SIGINT)
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a program might have
    try:
        leaving = asyncio.create_task(other.hang_up())
        code = await asyncio.wait_for(follow_call(ours, JoinOptions(link), lambda _: None), 20)
        await leaving
        assert code == 0  # the other person left: a normal end
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, handler)
        await ours.hang_up()
    assert signal.getsignal(signal.SIGINT) is before
