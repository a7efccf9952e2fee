import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from peercall import logs
from peercall.logs import (
    RECORD_ATTRIBUTES,
    TEXT_FORMAT,
    EventWriter,
    JsonFormatter,
    TextFormatter,
    log_event,
)


def test_an_event_field_named_like_a_log_record_attribute_is_kept_not_fatal(caplog):
    logger = logging.getLogger("peercall.test")
    with caplog.at_level(logging.INFO, logger="peercall.test"):
        log_event(logger, "server-gone", process="abc", name="x", members=2)
    [record] = caplog.records
    assert record.getMessage() == "server-gone process=abc name=x members=2"
    assert (record.field_process, record.field_name, record.members) == ("abc", "x", 2)
    assert record.name == "peercall.test"


def record_at(created: float) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "peercall.test", "levelname": "INFO", "msg": "x"})
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    return record


def test_text_lines_tell_the_time_as_logging_does_across_seconds():
    standard = logging.Formatter(TEXT_FORMAT)
    ours = TextFormatter()
    # Within a second, across one, back to an earlier one (a clock set back).
    for created in (1_790_000_000.123, 1_790_000_000.999, 1_790_000_001.0, 1_790_000_000.5):
        assert ours.format(record_at(created)) == standard.format(record_at(created))


def test_json_lines_tell_the_time_in_utc_to_the_millisecond():
    formatter = JsonFormatter()
    times = [
        json.loads(formatter.format(record_at(created)))["time"]
        for created in (1_790_000_000.25, 1_790_000_001.5)
    ]
    assert times == ["2026-09-21T14:13:20.250Z", "2026-09-21T14:13:21.500Z"]


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_event_lines_written_directly_read_as_logging_writes_them(caplog, formatter):
    logger = logging.getLogger("peercall.test")
    with caplog.at_level(logging.INFO, logger="peercall.test"):
        log_event(logger, "leave", call="3fa9c2d18e0b", peer="aB3dE6…", reason="left", name="x")
    [record] = caplog.records
    fields = {k: v for k, v in record.__dict__.items() if k not in RECORD_ATTRIBUTES}
    assert fields == {"event": "leave", "call": "3fa9c2d18e0b", "peer": "aB3dE6…",
                      "reason": "left", "field_name": "x"}  # fmt: skip
    direct = formatter.event_line(record.created, record.name, record.getMessage(), fields)
    assert direct == formatter.format(record)


@pytest.fixture
def event_log(tmp_path, monkeypatch):
    """A logger whose only handler writes to a file through an `EventWriter`, as
    `set_up_logging` sets up the server's. Called in the test: pytest gives every
    logger handlers of its own when the test starts, which would take the lines."""
    path = tmp_path / "server.log"
    stream = path.open("w", encoding="utf-8")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    writer = EventWriter.for_handler(handler)
    assert writer is not None
    monkeypatch.setattr(logs, "_event_writer", writer)
    logger = logging.getLogger("peercall.test.events")

    def start() -> tuple[Path, logging.Logger]:
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.handlers = [handler]
        assert writer.takes(logger)
        return path, logger

    yield start
    logger.handlers = []
    logger.filters.clear()
    stream.close()


def messages(path: Path) -> list[str]:
    return [line.split(": ", 1)[1] for line in path.read_text().splitlines()]


async def test_event_lines_are_written_at_the_end_of_the_turn_in_order_with_the_rest(event_log):
    path, logger = event_log()
    log_event(logger, "join", call="c1")
    logger.warning("between")  # through logging, which flushes what came before
    log_event(logger, "leave", call="c1")
    assert messages(path) == ["join call=c1", "between"]  # the last one waits its turn
    await asyncio.sleep(0)
    assert messages(path) == ["join call=c1", "between", "leave call=c1"]


def test_event_lines_off_the_event_loop_are_written_at_once(event_log):
    path, logger = event_log()
    log_event(logger, "forgotten", calls=3)
    assert messages(path) == ["forgotten calls=3"]


def test_a_filter_on_the_way_sees_every_event_line(event_log):
    path, logger = event_log()
    seen: list[str] = []
    logger.addFilter(lambda record: seen.append(record.getMessage()) or True)
    log_event(logger, "join", call="c1")
    assert seen == ["join call=c1"]
    assert messages(path) == ["join call=c1"]


def test_event_lines_after_the_loop_closed_with_a_flush_due_are_written_at_once(event_log):
    path, logger = event_log()
    loop = asyncio.new_event_loop()

    def log_and_stop() -> None:
        log_event(logger, "join", call="c1")  # its flush is due at the end of the turn
        loop.stop()  # which never comes: the loop stops first

    loop.call_soon(log_and_stop)
    loop.run_forever()
    loop.close()
    assert messages(path) == []
    log_event(logger, "leave", call="c1")
    assert messages(path) == ["join call=c1", "leave call=c1"]


# What a server does with its log when Python's own streams write each line at once.
UNBUFFERED_SERVER_LOG = """
import asyncio, logging, sys
from peercall.logs import log_event, set_up_logging

set_up_logging("info", "text")
logger = logging.getLogger("peercall.signaling")

def written() -> int:
    with open(sys.argv[1]) as log:
        return len(log.read().splitlines())

async def main() -> None:
    log_event(logger, "join", call="c1")
    log_event(logger, "join", call="c1")
    during = written()
    await asyncio.sleep(0)
    print(during, written())

asyncio.run(main())
"""


def test_event_lines_wait_for_the_end_of_the_turn_with_unbuffered_python_streams(tmp_path):
    """PYTHONUNBUFFERED (set in most container images) makes `sys.stderr` write each
    line at once; the log's lines still go out together at the end of the turn."""
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", UNBUFFERED_SERVER_LOG, str(log)],
            stderr=stderr, stdout=subprocess.PIPE, text=True, check=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    assert done.stdout.split() == ["0", "2"]
    assert messages(log) == ["join call=c1", "join call=c1"]
