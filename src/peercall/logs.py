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
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn hands its "uvicorn.error" logger to the WebSocket library.
WIRE_LOGGERS = ("uvicorn.error", "websockets")
# What a LogRecord has of its own; anything else on it came in through `extra`.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One line per record: time (UTC, ISO 8601), level, logger, message, the event's
    fields, and the exception's traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in record.__dict__.items() if key not in _RECORD_FIELDS
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
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
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
    """Enough of an id to follow it in logs without handing out the call link."""
    return identifier[:6] + "…"


def log_event(logger: logging.Logger, event: str, **fields: object) -> None:
    """One INFO line per event: `join call=aB3dE6… peer=…` as text, and `event`,
    `call`, `peer`… as fields in JSON. Ids must come shortened (`short_id`)."""
    if logger.isEnabledFor(logging.INFO):
        text = " ".join([event, *(f"{key}={value}" for key, value in fields.items())])
        # A field named like a LogRecord attribute ("process", "name"…) would make
        # logging raise: such a one goes in as `field_<name>`.
        extra = {
            (f"field_{key}" if key in RECORD_ATTRIBUTES else key): v for key, v in fields.items()
        }
        logger.info(text, extra={"event": event, **extra})


RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
