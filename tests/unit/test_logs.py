import logging

from peercall.logs import log_event


def test_an_event_field_named_like_a_log_record_attribute_is_kept_not_fatal(caplog):
    logger = logging.getLogger("peercall.test")
    with caplog.at_level(logging.INFO, logger="peercall.test"):
        log_event(logger, "server-gone", process="abc", name="x", members=2)
    [record] = caplog.records
    assert record.getMessage() == "server-gone process=abc name=x members=2"
    assert (record.field_process, record.field_name, record.members) == ("abc", "x", 2)
    assert record.name == "peercall.test"
