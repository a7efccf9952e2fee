"""uvicorn's HTTP protocol with limits on receiving each request: time and header size.

uvicorn has neither. Its keep-alive timeout covers only the wait between requests, and
any byte that arrives unsets it: a client that sends its request a byte at a time, or
stops halfway, keeps the connection as long as it likes, and enough such clients use
up the server's file descriptors (Slowloris). And uvicorn keeps every header it is sent
(httptools sets no bound): ten million one-line headers took a gigabyte of the server's
memory within seconds.

Here a request must be in, headers and body, within `request_seconds` of its first
byte: a client still sending its headers then gets 408 (Request Timeout), one still
sending its body has its connection closed (the application sees the client go away).
Its target and headers may come to `MAX_HEAD_BYTES`: past that, 431 (Request Header
Fields Too Large), and the request is not handled.

A refused connection is not closed at once but staged (RFC 9112, 9.6): the answer, then
the end of what the server sends, then whatever the client still sends is read and
dropped for `LINGER_SECONDS`, then it is closed. Closing a socket with bytes unread
makes the kernel reset it, and a client whose socket is reset loses what it had not
read yet: a client that reads only once it has sent all of its request (asyncio's
streams) got "connection reset" in place of the 431.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# A browser's request for the page or the API carries 1-2 KiB.
MAX_HEAD_BYTES = 32 * 1024
# Time for a refused client to read its answer while it still sends.
LINGER_SECONDS = 2.0


def plain_response(status: bytes, text: bytes) -> bytes:
    """A whole HTTP/1.1 response with a short text, after which the server closes."""
    return (
        b"HTTP/1.1 %b\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n%b" % (status, len(text), text)
    )


REQUEST_TIMEOUT = plain_response(b"408 Request Timeout", b"Request Timeout\n")
HEAD_TOO_LARGE = plain_response(
    b"431 Request Header Fields Too Large", b"Request Header Fields Too Large\n"
)


class LimitedRequestProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` (the arguments uvicorn gives it), and `request_seconds`."""

    def __init__(self, *arguments: Any, request_seconds: float) -> None:
        super().__init__(*arguments)
        self.request_seconds = request_seconds
        self.request_deadline: asyncio.TimerHandle | None = None
        self.reading_headers = False
        self.head_bytes = 0
        self.refused = False  # answered already: nothing more of it is handled
        self.lingering: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if not self.refused:  # a refused client's bytes are read and dropped
            super().data_received(data)

    def on_message_begin(self) -> None:
        if self.refused:  # a request after the refused one, in the same bytes
            return
        super().on_message_begin()
        self._disarm()
        self.reading_headers = True
        self.head_bytes = 0
        self.request_deadline = self.loop.call_later(self.request_seconds, self._too_slow)

    def on_url(self, url: bytes) -> None:
        if self._within_head_limit(len(url)):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._within_head_limit(len(name) + len(value)):
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        if not self.refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self.refused:
            super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.lingering is not None:
            self.lingering.cancel()
            self.lingering = None
        super().connection_lost(exc)

    def _within_head_limit(self, size: int) -> bool:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            self._refuse(HEAD_TOO_LARGE)
        return not self.refused

    def _disarm(self) -> None:
        if self.request_deadline is not None:
            self.request_deadline.cancel()
            self.request_deadline = None

    def _too_slow(self) -> None:
        self.request_deadline = None
        if self.reading_headers:
            self._refuse(REQUEST_TIMEOUT)
        else:
            self.transport.close()

    def _refuse(self, response: bytes) -> None:
        if not self.refused and not self.transport.is_closing():
            self.transport.write(response)
            if self.transport.can_write_eof():  # TLS cannot: the client reads to the length
                self.transport.write_eof()
            self.lingering = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        self.refused = True
