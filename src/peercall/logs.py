"""The server's log: readable lines by default, one JSON object per line on request
(`log_format = "json"`), and never a secret whatever the level.

Events carry their fields in `extra` (`event`, `call`, `peer`, `reason`…), with ids
already shortened: a text line shows them in its message, a JSON line as fields that a
log pipeline can filter on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn hands its "uvicorn.error" logger to the WebSocket library.
WIRE_LOGGERS = ("uvicorn.error", "websockets")
# What a LogRecord has of its own; anything else on it came in through `extra`.
RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class SecondsCache:
    """A record's time to the second, formatted once per second rather than once per
    line: a busy server logs hundreds of lines a second, and `time.strftime` with
    its conversion was a sixth of a line's cost."""

    __slots__ = ("convert", "pattern", "second", "text")

    def __init__(self, pattern: str, convert: Callable[[float], time.struct_time]) -> None:
        self.pattern, self.convert = pattern, convert
        self.second = -1
        self.text = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self.second:
            self.text = time.strftime(self.pattern, self.convert(created))
            self.second = second
        return self.text


def milliseconds(created: float) -> int:
    """The milliseconds of a time, as a LogRecord has them (`msecs`)."""
    return int((created - int(created)) * 1000)


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, with the time as `logging.Formatter` writes it (local time,
    "2026-11-26 04:26:17,731") but its seconds formatted once per second."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._seconds = SecondsCache(self.default_time_format, self.converter)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{self._seconds(record.created)},{int(record.msecs):03d}"

    def event_line(
        self, created: float, logger: str, message: str, fields: dict[str, object]
    ) -> str:
        """What `format` makes of `log_event`'s INFO record (`EventWriter`)."""
        return f"{self._seconds(created)},{milliseconds(created):03d} INFO {logger}: {message}"


class JsonFormatter(logging.Formatter):
    """One line per record: time (UTC, ISO 8601), level, logger, message, the event's
    fields, and the exception's traceback as one string when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self._seconds = SecondsCache("%Y-%m-%dT%H:%M:%S", time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        extra = ((k, v) for k, v in record.__dict__.items() if k not in RECORD_ATTRIBUTES)
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return self._line(
            record.created, int(record.msecs), record.levelname.lower(), record.name,
            record.getMessage(), extra, exception,
        )  # fmt: skip

    def event_line(
        self, created: float, logger: str, message: str, fields: dict[str, object]
    ) -> str:
        """What `format` makes of `log_event`'s INFO record (`EventWriter`)."""
        return self._line(
            created, milliseconds(created), "info", logger, message, fields.items(), None
        )

    def _line(
        self,
        created: float,
        msecs: int,
        level: str,
        logger: str,
        message: str,
        extra: Iterable[tuple[str, object]],
        exception: str | None,
    ) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._seconds(created)}.{msecs:03d}Z",
            "level": level,
            "logger": logger,
            "message": message,
        }
        entry.update(extra)
        if exception is not None:
            entry["exception"] = exception
        return json.dumps(entry, default=str, ensure_ascii=False)


LineFormatter = TextFormatter | JsonFormatter


class EventWriter:
    """Writes `log_event`'s lines to the log's stream itself, as the handler would
    write them, and flushes them once at the end of the event loop's turn.

    Why: the server logs four lines per call set-up (two joins, two leaves), and
    going through `logging` (a LogRecord, the handler's lock, the formatter, a write
    system call per line) was about 6 % of its CPU per set-up under load (benchmarks/
    README.md). A line goes this way only when `logging` would do nothing else with
    it (`takes`): no filter or other handler on the way, and `logging`'s own lines
    are written through the same buffer, so the order of lines holds. A line written
    off the event loop's thread is flushed at once.
    """

    def __init__(self, handler: logging.StreamHandler[Any], formatter: LineFormatter) -> None:
        text_stream = handler.stream
        self.handler = handler
        self.formatter = formatter
        self.stream: BinaryIO = text_stream.buffer  # under the text stream's buffering
        self.encoding: str = text_stream.encoding
        self.errors: str = text_stream.errors or "strict"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.flush_due = False

    @classmethod
    def for_handler(cls, handler: logging.StreamHandler[Any]) -> EventWriter | None:
        """None when the handler's stream is not a text stream over a byte one."""
        formatter = handler.formatter
        if not isinstance(formatter, TextFormatter | JsonFormatter):
            return None
        if getattr(handler.stream, "buffer", None) is None:
            return None
        return cls(handler, formatter)

    def takes(self, logger: logging.Logger) -> bool:
        """Whether an INFO line of `logger` would reach our handler and nothing else,
        unchanged (`Logger.callHandlers` walks the same way)."""
        if logger.disabled:
            return False
        handler = self.handler
        reached = False
        node: logging.Logger | None = logger
        while node is not None:
            if node.filters:
                return False
            for other in node.handlers:
                if other is not handler or reached:
                    return False
                reached = True
            if not node.propagate:
                break
            node = node.parent
        return reached and not handler.filters and handler.level <= logging.INFO

    def write(self, logger: str, message: str, fields: dict[str, object]) -> None:
        line = self.formatter.event_line(time.time(), logger, message, fields)
        self.stream.write((line + "\n").encode(self.encoding, self.errors))
        if not self._on_loop_thread():
            self.flush()  # also when the loop has closed with a flush still due
        elif not self.flush_due:
            assert self.loop is not None
            self.flush_due = True
            self.loop.call_soon(self.flush)

    def _on_loop_thread(self) -> bool:
        """Learnt from the first line written while a loop runs (asking each time is
        a system call: asyncio checks the process id)."""
        if self.loop is None:
            self.loop = asyncio._get_running_loop()
            if self.loop is None:
                return False
            self.loop_thread = threading.get_ident()
        if self.loop.is_closed():
            self.loop = None
            return False
        return threading.get_ident() == self.loop_thread

    def flush(self) -> None:
        self.flush_due = False
        # A log whose stream is gone (closed, or a full disk) has nowhere to say so.
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()


# Set by `set_up_logging` (the server's process); None elsewhere, where `log_event`
# goes through `logging` only.
_event_writer: EventWriter | None = None


class NoWireDumps(logging.Filter):
    """At debug level the WebSocket library logs every frame and header it sends or
    receives ("< TEXT '{...}'"), and frames carry call ids, passcodes, resume tokens
    and TURN credentials. Those lines never reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.DEBUG and str(record.msg).startswith(("<", ">")))


class NoConnectionChatter(logging.Filter):
    """uvicorn logs three INFO lines for every WebSocket ("[accepted]", "connection
    open", "connection closed"): a busy signaling server's log would be nothing else,
    and writing them cost more than relaying. peercall logs joins and leaves."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        message = str(record.msg)
        return not (message.startswith("connection ") or '"WebSocket %s"' in message)


def buffered_stderr() -> TextIO:
    """Standard error, as a stream of the log's own that holds what it is given until
    it is flushed, whatever Python's own streams do.

    With `PYTHONUNBUFFERED` set (as in most container images), `sys.stderr` writes
    each line with a system call of its own, and `EventWriter` could not keep its
    lines for the end of the turn. `logging`'s handler still flushes after each of
    its lines."""
    stderr = sys.stderr
    try:
        descriptor = stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return stderr  # not a file (a test's capture): as it is
    return open(
        descriptor,
        "w",
        encoding=stderr.encoding,
        errors=stderr.errors or "backslashreplace",
        closefd=False,
    )


def set_up_logging(level: str, log_format: str) -> None:
    """Before the server starts: the root handler every logger (uvicorn's too, with
    `log_config=None`) writes through."""
    global _event_writer
    handler = logging.StreamHandler(buffered_stderr())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    _event_writer = EventWriter.for_handler(handler)
    # What our log lines never show, not worked out for each of them (the logging
    # HOWTO's "Optimization"): under load this halved the cost of logging.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # Python 3.12+
    # Where each call to the logger was made (file, line, function): neither format
    # shows it, and finding it walks the stack for every line (a tenth of a line's cost).
    logging._srcfile = None
    for name in WIRE_LOGGERS:
        logging.getLogger(name).addFilter(NoWireDumps())
    if level != "debug":
        logging.getLogger("uvicorn.error").addFilter(NoConnectionChatter())
    # picows says at INFO that each socket came and went (with its address), and
    # at DEBUG dumps what it reads (resume tokens, passcodes): never below WARNING.
    logging.getLogger("picows").setLevel(max(logging.WARNING, logging.root.level))
    # aiosqlite's debug lines quote every query's parameters (hashes, names).
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.root.level))


def short_id(identifier: str) -> str:
    """Enough of a peer id to follow it in logs."""
    return identifier[:6] + "…"


# As many hex digits of a call's key as `peercall calls` shows.
CALL_LABEL_LENGTH = 12


def call_label(key: str) -> str:
    """How log lines name a call: the start of its key (the SHA-256 of its id), which
    is what the store and `peercall calls` know it by and all that a server on Redis
    knows of a call someone left from elsewhere. The same call reads the same on
    every line and every server, and nothing of its link is in the log."""
    return key[:CALL_LABEL_LENGTH]


def log_event(logger: logging.Logger, event: str, **fields: object) -> None:
    """One INFO line per event: `join call=3fa9c2d18e0b peer=aB3dE6…` as text, and
    `event`, `call`, `peer`… as fields in JSON. Ids must come shortened (`call_label`,
    `short_id`)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    text = " ".join([event, *(f"{key}={value}" for key, value in fields.items())])
    # A field named like a LogRecord attribute ("process", "name"…) would make
    # logging raise: such a one goes in as `field_<name>`.
    extra: dict[str, object] = {"event": event}
    for key, value in fields.items():
        extra[f"field_{key}" if key in RECORD_ATTRIBUTES else key] = value
    writer = _event_writer
    if writer is not None and writer.takes(logger):
        writer.write(logger.name, text, extra)
    else:
        logger.info(text, extra=extra)
