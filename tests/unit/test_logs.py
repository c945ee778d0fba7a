"""The server's log configuration: the JSON form, and health probes left out at info."""

from __future__ import annotations

import json
import logging

import pytest

from mock_puresms.logs import HealthProbeFilter, JsonFormatter, log_config


def access_record(path: str) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )


@pytest.mark.parametrize(
    ("path", "kept"),
    [("/_mock/health", False), ("/_mock/health?x=1", False), ("/v1/Account", True)],
)
def test_the_filter_drops_health_probes_only(path: str, kept: bool) -> None:
    assert HealthProbeFilter().filter(access_record(path)) is kept


def test_the_json_form_of_an_access_record_has_its_fields() -> None:
    entry = json.loads(JsonFormatter().format(access_record("/v1/Sms/M1?x=1")))

    assert entry["level"] == "INFO" and entry["logger"] == "uvicorn.access"
    assert entry["message"] == '127.0.0.1:5000 - "GET /v1/Sms/M1?x=1 HTTP/1.1" 200'
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/v1/Sms/M1?x=1", 200)


def test_data_and_summary_of_a_record_go_into_its_json_form() -> None:
    record = logging.LogRecord("mock_puresms", logging.WARNING, __file__, 1, "a\nb", None, None)
    record.data = {"url": "http://x.test", "level": "not this"}
    record.summary = "a"
    entry = json.loads(JsonFormatter().format(record))

    assert (entry["message"], entry["url"], entry["level"]) == ("a", "http://x.test", "WARNING")


@pytest.mark.parametrize(("level", "filtered"), [("info", True), ("debug", False)])
def test_probes_are_filtered_at_info_and_shown_below(level: str, filtered: bool) -> None:
    config = log_config(level, "text")
    assert ("filters" in config["loggers"]["uvicorn.access"]) is filtered
    assert config["loggers"]["mock_puresms"]["level"] == logging.getLevelName(level.upper())


def test_json_sends_every_logger_to_stderr() -> None:
    config = log_config("info", "json")
    assert {h["stream"] for h in config["handlers"].values()} == {"ext://sys.stderr"}
    assert {h["formatter"] for h in config["handlers"].values()} == {"json"}
