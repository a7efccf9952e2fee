"""uvicorn's HTTP protocol with a deadline for receiving each request.

uvicorn has none: its keep-alive timeout covers only the wait between requests, and any
byte that arrives unsets it. A client that sends its request a byte at a time, or stops
halfway, keeps the connection for as long as it likes, and enough such clients use up
the server's file descriptors (Slowloris). Here a request must be in, headers and body,
within `request_seconds` of its first byte. A client still sending its headers then gets
408 (Request Timeout); one still sending its body has its connection closed, which the
application sees as the client going away.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 16\r\nconnection: close\r\n\r\nRequest Timeout\n"
)


class RequestDeadlineProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` (the arguments uvicorn gives it), and `request_seconds`."""

    def __init__(self, *arguments: Any, request_seconds: float) -> None:
        super().__init__(*arguments)
        self.request_seconds = request_seconds
        self.request_deadline: asyncio.TimerHandle | None = None
        self.reading_headers = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._disarm()
        self.reading_headers = True
        self.request_deadline = self.loop.call_later(self.request_seconds, self._too_slow)

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _disarm(self) -> None:
        if self.request_deadline is not None:
            self.request_deadline.cancel()
            self.request_deadline = None

    def _too_slow(self) -> None:
        self.request_deadline = None
        if self.transport.is_closing():
            return
        if self.reading_headers:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()
