import json
import logging

from peercall.logs import TEXT_FORMAT, JsonFormatter, TextFormatter, log_event


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
