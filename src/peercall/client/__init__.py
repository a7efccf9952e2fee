"""Take part in peercall calls from Python (aiortc): send media, receive it, chat.

import asyncio
from peercall.client import MediaSource, create_call, join

async def main() -> None:
    link = await create_call("http://localhost:8000")
    print("join me at", link)
    async with await join(link, media=MediaSource.test_pattern()) as call:
        await call.wait_connected()
        await call.send_text("hello from Python")
        async for event in call.events():
            print(event)

asyncio.run(main())
"""

from peercall.client.call import Call, create_call, join
from peercall.client.errors import (
    CallEnded,
    CallError,
    CallFull,
    CallNotFound,
    InvalidLink,
    PasscodeRequired,
    ServerUnreachable,
    WrongPasscode,
)
from peercall.client.events import (
    CallEvent,
    CallState,
    ConnectionQualityChanged,
    FileFailed,
    FileReceived,
    HandChanged,
    MessageReceived,
    PeerJoined,
    PeerLeft,
    PeerMediaChanged,
    StateChanged,
    TrackReceived,
)
from peercall.client.files import safe_file_name, save_file
from peercall.client.links import CallLink, parse_call_link
from peercall.client.media import MediaError, MediaSource, TestPatternVideo, ToneAudio
from peercall.client.receiving import ReceivedTrackStats
from peercall.client.stats import PeerStats

__all__ = [
    "Call",
    "CallEnded",
    "CallError",
    "CallEvent",
    "CallFull",
    "CallLink",
    "CallNotFound",
    "CallState",
    "ConnectionQualityChanged",
    "FileFailed",
    "FileReceived",
    "HandChanged",
    "InvalidLink",
    "MediaError",
    "MediaSource",
    "MessageReceived",
    "PasscodeRequired",
    "PeerJoined",
    "PeerLeft",
    "PeerMediaChanged",
    "PeerStats",
    "ReceivedTrackStats",
    "ServerUnreachable",
    "StateChanged",
    "TestPatternVideo",
    "ToneAudio",
    "TrackReceived",
    "WrongPasscode",
    "create_call",
    "join",
    "parse_call_link",
    "safe_file_name",
    "save_file",
]
