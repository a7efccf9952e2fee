"""Files over the data channel, as the web page sends and takes them (docs/protocol.md,
"Data channel"): a `file-start`, the bytes in binary messages of 16 KiB, a `file-end`.

The channel is ordered and reliable, so chunks need no numbering, and one file goes at
a time per channel. A sender waits whenever the channel holds more than `BUFFER_HIGH`
unsent, so a large file is never all in memory twice.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiortc import RTCDataChannel

from peercall.client.datachannel import (
    FILE_CHUNK_BYTES,
    MAX_FILE_BYTES,
    MAX_FILE_NAME_LENGTH,
    FileEnd,
    FileStart,
    encode,
)

BUFFER_HIGH = 1024 * 1024
BUFFER_LOW = 256 * 1024


@dataclass
class _Incoming:
    start: FileStart
    chunks: list[bytes] = field(default_factory=list)
    received: int = 0


class FileAssembler:
    """Puts the files of one channel together from its messages, and checks that each
    holds the bytes its `file-start` announced: `on_file(start, data)` for each whole
    one, `on_failure(start, reason)` for one that broke the rules or was cut off."""

    def __init__(
        self,
        on_file: Callable[[FileStart, bytes], None],
        on_failure: Callable[[FileStart, str], None],
    ) -> None:
        self._on_file = on_file
        self._on_failure = on_failure
        self._current: _Incoming | None = None

    def start(self, message: FileStart) -> None:
        if self._current is not None:
            self._fail("a new file started before the last one ended")
        self._current = _Incoming(message)

    def chunk(self, data: bytes) -> None:
        current = self._current
        if current is None:
            return  # a chunk of a file we refused
        current.received += len(data)
        if current.received > current.start.size:
            self._fail("more bytes than announced")
            return
        current.chunks.append(data)

    def end(self, message: FileEnd) -> None:
        current = self._current
        if current is None or current.start.id != message.id:
            return
        if current.received != current.start.size:
            self._fail("fewer bytes than announced")
            return
        self._current = None
        self._on_file(current.start, b"".join(current.chunks))

    def abort(self) -> None:
        """The channel closed: whatever was coming will not."""
        if self._current is not None:
            self._fail("the connection closed")

    def _fail(self, reason: str) -> None:
        assert self._current is not None
        start, self._current = self._current.start, None
        self._on_failure(start, reason)


def read_file_to_send(path: Path) -> bytes:
    """The bytes of `path`, refused (ValueError) before reading if over the limit."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than 512 MiB.")
    return path.read_bytes()


def file_start(name: str, size: int, mime: str = "") -> FileStart:
    """The announcement of a file called `name` (cut to what the protocol takes)."""
    return FileStart(
        id=secrets.token_urlsafe(12),
        name=name[:MAX_FILE_NAME_LENGTH] or "file",
        size=size,
        mime=mime[:255],
    )


async def send_file(channel: RTCDataChannel, start: FileStart, data: bytes) -> None:
    """Sends `data` as the file `start` announces, waiting whenever the channel holds
    more than BUFFER_HIGH unsent. Raises ConnectionError if the channel closes first."""
    if channel.readyState != "open":
        raise ConnectionError("The connection is not open.")
    channel.bufferedAmountLowThreshold = BUFFER_LOW
    channel.send(encode(start))
    view = memoryview(data)
    for offset in range(0, len(data), FILE_CHUNK_BYTES):
        if channel.bufferedAmount > BUFFER_HIGH:
            await _drained(channel)
        if channel.readyState != "open":
            raise ConnectionError("The connection closed while sending the file.")
        channel.send(bytes(view[offset : offset + FILE_CHUNK_BYTES]))
    channel.send(encode(FileEnd(id=start.id)))


async def _drained(channel: RTCDataChannel) -> None:
    """Until the channel's unsent bytes fall to BUFFER_LOW, or it closes."""
    done = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    channel.on("bufferedamountlow", wake)
    channel.on("close", wake)
    try:
        await done
    finally:
        channel.remove_listener("bufferedamountlow", wake)
        channel.remove_listener("close", wake)


# Besides control characters: what Windows refuses in a name, and both separators.
_UNSAFE_CHARACTERS = frozenset('<>:"/\\|?*')
# What most file systems take in one name, in bytes.
_MAX_NAME_BYTES = 255


def safe_file_name(name: str) -> str:
    """The name a sender gave a file, made fit to save under in a directory of ours:
    its last component only (no "../"), no control or reserved characters, not
    hidden, not empty, at most 255 bytes (its extension kept)."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        "_" if ch in _UNSAFE_CHARACTERS or not ch.isprintable() else ch for ch in last
    )
    cleaned = cleaned.strip().lstrip(".").strip() or "file"
    stem, dot, extension = cleaned.rpartition(".")
    if not dot or len(extension) > 16:
        stem, extension = cleaned, ""
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or "file") + suffix


def save_file(directory: Path, name: str, data: bytes) -> Path:
    """Writes a received file into `directory` under `safe_file_name(name)`, or under
    "name (2).ext", "name (3).ext"… when that is taken: never over another file, and
    never through a link someone put there."""
    safe = Path(safe_file_name(name))
    for number in range(1, 10_000):
        path = directory / (safe.name if number == 1 else f"{safe.stem} ({number}){safe.suffix}")
        try:
            with path.open("xb") as file:  # fails if the name exists, link or not
                file.write(data)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {safe} in {directory}")
