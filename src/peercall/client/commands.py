"""`peercall new` and `peercall join`: the Python client on the command line.

Exit codes: 0 when the call ends normally (the other person left, --duration
elapsed, Ctrl-C); 1 when the call cannot go on (not found, ended, full, server
unreachable or lost); 2 for a bad link, file or device.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from peercall.client.call import Call, create_call, join
from peercall.client.errors import CallError, InvalidLink
from peercall.client.events import (
    STATE_TEXT,
    CallEvent,
    CallState,
    ConnectionQualityChanged,
    FileFailed,
    FileReceived,
    HandChanged,
    MessageReceived,
    PeerJoined,
    PeerMediaChanged,
    StateChanged,
)
from peercall.client.files import read_file_to_send, save_file
from peercall.client.links import parse_call_link
from peercall.client.media import MediaError, MediaSource
from peercall.client.stats import PeerStats

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CALL_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class JoinOptions:
    link: str
    play: Path | None = None
    loop: bool = False  # play the file over and over
    camera: str | None = None
    microphone: str | None = None  # an ALSA capture device, sent as our sound
    screen: str | None = None  # an X11 display to share ("": $DISPLAY)
    test_pattern: bool = False
    muted: bool = False  # silence sent in place of the sound, from the start
    camera_off: bool = False  # a black picture in place of the video, from the start
    incoming_video: bool = True  # False: the others are asked not to send their video
    record: Path | None = None
    duration: float | None = None
    say: str | None = None
    send_file: Path | None = None
    save_files: Path | None = None
    stats: float | None = None  # seconds between two lines of statistics
    name: str = ""
    passcode: str | None = None


def printable(text: str) -> str:
    """Text from the other side, safe for a terminal: no control characters."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def fail(message: str, code: int, err: TextIO) -> int:
    print(f"peercall: {message}", file=err, flush=True)
    return code


async def run_new(
    server_url: str,
    passcode: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    try:
        link = await create_call(server_url, passcode=passcode)
    except InvalidLink as exc:
        return fail(str(exc), EXIT_USAGE, err)
    except CallError as exc:
        return fail(exc.message, EXIT_CALL_FAILED, err)
    print(link, file=out, flush=True)
    return EXIT_OK


def open_media(options: JoinOptions) -> MediaSource | None:
    if options.microphone is not None and options.play is not None:
        raise MediaError(
            "--microphone goes with --camera, --screen or --test-pattern: a file has its own sound"
        )
    picture = open_picture(options)
    if options.microphone is None:
        return picture
    try:
        sound = MediaSource.from_microphone(options.microphone)
    except MediaError:
        if picture is not None:
            picture.close()
        raise
    if picture is None:
        return sound
    if picture.audio is not None:
        picture.audio.stop()  # the test pattern's tone: the microphone's sound instead
    return MediaSource(audio=sound.audio, video=picture.video, screen=picture.screen)


def open_picture(options: JoinOptions) -> MediaSource | None:
    """What the picture (and, without --microphone, the sound) comes from."""
    if options.loop and options.play is None:
        raise MediaError("--loop plays a file over and over: give the file with --play")
    if options.play is not None:
        return MediaSource.from_file(options.play, loop=options.loop)
    if options.camera is not None:
        return MediaSource.from_device(options.camera)
    if options.screen is not None:
        return MediaSource.from_screen(options.screen or None)
    if options.test_pattern:
        return MediaSource.test_pattern()
    return None  # receive only


async def run_join(options: JoinOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        link = parse_call_link(options.link)
        file_to_send = await read_file_option(options)
        media = open_media(options)
    except (InvalidLink, MediaError, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE, err)
    try:
        say(f"Joining call {link.short_call_id} at {link.base_url}")
        try:
            call = await join(
                link,
                media=media,
                record_to=options.record,
                name=options.name,
                passcode=options.passcode,
            )
        except CallError as exc:
            return fail(exc.message, EXIT_CALL_FAILED, err)
        except MediaError as exc:
            return fail(str(exc), EXIT_USAGE, err)
        call.set_muted(options.muted)
        call.set_video_off(options.camera_off)
        call.set_incoming_video(options.incoming_video)
        async with call:
            code = await follow_call(call, options, say, file_to_send)
        say(STATE_TEXT[call.state])  # we hung up
        report_received(call, options, say)
        return code
    finally:
        if media is not None:
            media.close()


async def read_file_option(options: JoinOptions) -> bytes | None:
    """The file `--send-file` names, read before joining; ValueError if it cannot be
    read or is too large, as for `--save-files` naming no directory."""
    if options.save_files is not None and not options.save_files.is_dir():
        raise ValueError(f"{options.save_files} is not a directory")
    if options.send_file is None:
        return None
    try:
        return await asyncio.to_thread(read_file_to_send, options.send_file)
    except OSError as exc:
        raise ValueError(f"cannot read {options.send_file}: {exc.strerror}") from None


HANG_UP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and a service manager's stop


async def follow_call(
    call: Call,
    options: JoinOptions,
    say: Callable[[str], None],
    file_to_send: bytes | None = None,
) -> int:
    """Prints what happens until the call ends for us; returns the exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Given back afterwards: asyncio's remove_signal_handler would leave SIGINT to
    # Python's default handler, and a Ctrl-C while the call is being left (the other
    # person gone) then killed the process in the middle of aiortc's work, with a
    # traceback, instead of asyncio.run's own handler ending it cleanly.
    previous = {signum: signal.getsignal(signum) for signum in HANG_UP_SIGNALS}
    for signum in HANG_UP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    events = call.events()
    say(STATE_TEXT[call.state])
    outcome: asyncio.Task[int] = asyncio.create_task(
        _follow_events(call, events, options, say, stop, file_to_send)
    )
    stopped = asyncio.create_task(stop.wait())
    stats = asyncio.create_task(print_stats(call, options.stats, say)) if options.stats else None
    try:
        await asyncio.wait({outcome, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stats is not None:
            stats.cancel()
        for signum in HANG_UP_SIGNALS:
            loop.remove_signal_handler(signum)
            signal.signal(signum, previous[signum])
        stopped.cancel()
    if outcome.done():
        return outcome.result()
    outcome.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await outcome
    return EXIT_OK  # Ctrl-C or --duration: we hang up, a normal end


async def _follow_events(
    call: Call,
    events: AsyncIterator[CallEvent],
    options: JoinOptions,
    say: Callable[[str], None],
    stop: asyncio.Event,
    file_to_send: bytes | None,
) -> int:
    started = False  # connected once: what we send on connecting is sent once
    names: dict[str, str] = {}  # of those who joined after us
    async for event in events:
        match event:
            case StateChanged(state=state):
                say(STATE_TEXT[state])
                if state == CallState.CONNECTED and not started:
                    started = True
                    if options.duration is not None:
                        asyncio.get_running_loop().call_later(options.duration, stop.set)
                    if options.record is not None:
                        say(f"Recording to {options.record}")
                    if options.say:
                        await call.send_text(options.say)
                    if options.send_file is not None and file_to_send is not None:
                        await send_file_option(call, options.send_file.name, file_to_send, say)
                elif state == CallState.PEER_LEFT:
                    return EXIT_OK
                elif state == CallState.SERVER_LOST:
                    return EXIT_CALL_FAILED
            case PeerJoined(peer_id=peer_id, name=name):
                names[peer_id] = name
                say(f"{printable(name) or 'Someone'} joined")
            case MessageReceived(text=text, earlier=earlier):
                say(f"{'Earlier message' if earlier else 'Message'}: {printable(text)}")
            case PeerMediaChanged(audio=audio, video=video, screen=screen):
                microphone = "on" if audio else "muted"
                picture = (
                    "they share their screen"
                    if screen
                    else f"their camera is {'on' if video else 'off'}"
                )
                say(f"Their microphone is {microphone} and {picture}")
            case FileReceived(name=name, data=data):
                what = await saved(data, name, options)
                say(f"File: {printable(name)} ({len(data)} bytes){what}")
            case FileFailed(name=name, reason=reason):
                say(f"File {printable(name)} did not arrive whole: {reason}")
            case HandChanged(peer_id=peer_id, raised=raised):
                who = printable(names.get(peer_id, "")) or "Someone"
                say(f"{who} {'raised' if raised else 'lowered'} their hand")
            case ConnectionQualityChanged() as change:
                say(quality_line(change, names.get(change.peer_id, "")))
    return EXIT_OK


def quality_line(change: ConnectionQualityChanged, name: str) -> str:
    """What a person in the call reads on the tile, with the figures that decided."""
    with_whom = f" with {printable(name)}" if name else ""
    if not change.poor:
        return f"The connection{with_whom} is good again"
    rtt = "?" if change.round_trip_ms is None else f"{change.round_trip_ms:.0f}"
    return (
        f"Poor connection{with_whom}: {change.received_loss_percent:.0f} % lost coming in,"
        f" {change.sent_loss_percent:.0f} % going out, round trip {rtt} ms"
    )


async def send_file_option(call: Call, name: str, data: bytes, say: Callable[[str], None]) -> None:
    try:
        await call.send_file(data, name=name)
    except (CallError, ConnectionError, TimeoutError) as exc:
        say(f"Could not send {printable(name)}: {getattr(exc, 'message', None) or exc}")
    else:
        say(f"Sent file {printable(name)} ({len(data)} bytes)")


async def saved(data: bytes, name: str, options: JoinOptions) -> str:
    """Saves a received file if `--save-files` says where (in a thread: a large one
    would stall the call's media); says what became of it."""
    if options.save_files is None:
        return ", not saved (--save-files DIR keeps files)"
    try:
        path = await asyncio.to_thread(save_file, options.save_files, name, data)
    except OSError as exc:
        return f", not saved: {exc.strerror or exc}"
    return f", saved to {path}"


async def print_stats(call: Call, every: float, say: Callable[[str], None]) -> None:
    """Every `every` seconds, for each person: bit rates each way since the last
    line, the round trip, and the packets lost so far."""
    earlier: dict[str, tuple[float, PeerStats]] = {}
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every)
        now = loop.time()
        try:
            samples = await call.stats()
        except Exception:  # a peer connection closing meanwhile: the next round
            logger.debug("no statistics this round", exc_info=True)
            continue
        for sample in samples:
            before = earlier.get(sample.peer_id)
            earlier[sample.peer_id] = (now, sample)
            if before is None:
                continue
            received, sent = sample.bits_per_second_since(before[1], now - before[0])
            rtt = "?" if sample.round_trip_ms is None else f"{sample.round_trip_ms:.0f}"
            say(
                f"Stats: in {received / 1000:.0f} kbit/s, out {sent / 1000:.0f} kbit/s,"
                f" round trip {rtt} ms, {sample.packets_lost} packets lost"
            )


def report_received(call: Call, options: JoinOptions, say: Callable[[str], None]) -> None:
    video, audio = call.received.get("video"), call.received.get("audio")
    parts = []
    if video is not None:
        parts.append(f"{video.frames} video frames ({video.width}x{video.height})")
    if audio is not None:
        parts.append(f"{audio.frames} audio frames")
    say("Received " + (" and ".join(parts) if parts else "no media"))
    if options.record is not None and options.record.exists():
        say(f"Recorded to {options.record}")
