"""History writes never break a call: a failure is logged, in one line when it is the
storage being out of reach (an outage would otherwise log a traceback per message)."""

import logging
import sqlite3

from redis.exceptions import ConnectionError as RedisConnectionError

from peercall.server.store import store_safely


async def failing(exc: Exception) -> None:
    raise exc


async def test_storage_out_of_reach_is_one_warning_line(caplog):
    caplog.set_level(logging.WARNING, "peercall.store")
    await store_safely("record join", failing(RedisConnectionError("Connection refused")))
    await store_safely("add member", failing(sqlite3.OperationalError("database or disk is full")))
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == [
        (
            "WARNING",
            "could not record join: storage unavailable (ConnectionError: Connection refused)",
            None,
        ),
        (
            "WARNING",
            "could not add member: storage unavailable"
            " (OperationalError: database or disk is full)",
            None,
        ),
    ]


async def test_any_other_failure_is_logged_with_its_traceback(caplog):
    await store_safely("record join", failing(KeyError("bug")))
    (record,) = caplog.records
    assert record.levelname == "ERROR"
    assert record.exc_info is not None
