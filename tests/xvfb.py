"""A real X server with no monitor (Debian's Xvfb) on a display number of its own, for a
screen to share; stopped by PID. Its picture is a file the test paints into (`-fbdir`:
the server's frame buffer is that file, mapped), so what is on the screen is known
without a window, a toolkit or a drawing program."""

from __future__ import annotations

import mmap
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

from tests.processes import ChildProcess

XVFB = shutil.which("Xvfb") or "/usr/bin/Xvfb"
# The XWD file's header: 25 big-endian 32-bit fields (X11's XWDFileHeader).
XWD_FIELDS = struct.Struct(">25I")


class XScreen(ChildProcess):
    def __init__(self, directory: Path, width: int = 640, height: int = 360) -> None:
        self.directory = directory
        self.width, self.height = width, height
        self.log_path = directory / "xvfb.log"
        self.display = ""
        self._pixels: mmap.mmap | None = None
        self._offset = 0

    def start(self, timeout: float = 10.0) -> XScreen:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Xvfb picks a free display number and writes it to this pipe once it listens.
        number_out, number_in = os.pipe()
        command = [
            XVFB, "-displayfd", str(number_in), "-nolisten", "tcp",
            "-screen", "0", f"{self.width}x{self.height}x24", "-fbdir", str(self.directory),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                pass_fds=[number_in],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        os.close(number_in)
        try:
            self.display = ":" + self._read_number(number_out, timeout)
        except RuntimeError:
            self.stop()
            raise
        finally:
            os.close(number_out)
        self._map_frame_buffer()
        return self

    def _read_number(self, pipe: int, timeout: float) -> str:
        received = b""
        deadline = time.monotonic() + timeout
        os.set_blocking(pipe, False)
        while not received.endswith(b"\n"):
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                raise RuntimeError(f"Xvfb did not start:\n{self.log_path.read_text()}")
            try:
                received += os.read(pipe, 16)
            except BlockingIOError:
                time.sleep(0.05)
        return received.decode().strip()

    def _map_frame_buffer(self) -> None:
        with (self.directory / "Xvfb_screen0").open("r+b") as frame_buffer:
            self._pixels = mmap.mmap(frame_buffer.fileno(), 0)
        fields = XWD_FIELDS.unpack_from(self._pixels)
        header_size, bytes_per_line, colour_count = fields[0], fields[12], fields[19]
        assert bytes_per_line == self.width * 4, fields  # rows with no padding
        self._offset = header_size + colour_count * 12  # an XWDColor is 12 bytes

    def paint(self, red: int, green: int, blue: int) -> None:
        """The whole screen in one colour (at 24 bits a pixel is stored B, G, R, unused)."""
        assert self._pixels is not None
        pixels = bytes((blue, green, red, 0)) * (self.width * self.height)
        self._pixels[self._offset : self._offset + len(pixels)] = pixels

    def stop(self) -> None:
        if self._pixels is not None:
            self._pixels.close()
            self._pixels = None
        super().stop()
