"""The server's log: readable lines by default, one JSON object per line on request
(`log_format = "json"`), and never a secret whatever the level.

Events carry their fields in `extra` (`event`, `call`, `peer`, `reason`…), with ids
already shortened: a text line shows them in its message, a JSON line as fields that a
log pipeline can filter on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

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


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, with the time as `logging.Formatter` writes it (local time,
    "2026-11-26 04:26:17,731") but its seconds formatted once per second."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._seconds = SecondsCache(self.default_time_format, self.converter)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{self._seconds(record.created)},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One line per record: time (UTC, ISO 8601), level, logger, message, the event's
    fields, and the exception's traceback as one string when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self._seconds = SecondsCache("%Y-%m-%dT%H:%M:%S", time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": f"{self._seconds(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in record.__dict__.items() if key not in RECORD_ATTRIBUTES
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


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


def set_up_logging(level: str, log_format: str) -> None:
    """Before the server starts: the root handler every logger (uvicorn's too, with
    `log_config=None`) writes through."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
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
    if logger.isEnabledFor(logging.INFO):
        text = " ".join([event, *(f"{key}={value}" for key, value in fields.items())])
        # A field named like a LogRecord attribute ("process", "name"…) would make
        # logging raise: such a one goes in as `field_<name>`.
        extra = {
            (f"field_{key}" if key in RECORD_ATTRIBUTES else key): v for key, v in fields.items()
        }
        logger.info(text, extra={"event": event, **extra})
