"""``GET /reporting/client-tag-report`` (API.md 9.3, 9.6), through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from connect_helpers import FUTURE, call, errors_of, send

from mock_puresms.config_file import ConfigError, parse_config

if TYPE_CHECKING:
    from inprocess import Mock

REPORT = "/reporting/client-tag-report"


def today(mock: Mock) -> str:
    now_ms = mock.core.now()
    return datetime.fromtimestamp(now_ms / 1000, UTC).date().isoformat()


def report(
    mock: Mock, start: str, end: str, key: str = "test-key", **params: str
) -> list[dict[str, Any]]:
    response = call(mock, "GET", REPORT, key, params={"dateStart": start, "dateEnd": end, **params})
    assert response.status_code == 200, response.text
    summaries: list[dict[str, Any]] = response.json()["summaries"]
    return summaries


def test_one_summary_per_tag_with_counts_segments_and_zero_costs(mock: Mock) -> None:
    send(mock, clientTag="welcome", recipient="+447700900000")  # Delivered
    send(mock, clientTag="welcome", recipient="+447700900001", content="a" * 161)  # Undeliverable
    send(mock, clientTag="reminder", recipient="+447700900002")  # Expired
    send(mock, recipient="+447700900000")  # untagged
    mock.advance(60)
    day = today(mock)

    summaries = report(mock, day, day)

    assert [s["clientTag"] for s in summaries] == [None, "reminder", "welcome"]
    welcome = summaries[2]
    assert welcome == {
        "clientTag": "welcome",
        "date": day,
        "sentCount": 2,
        "deliveredCount": 1,
        "failedCount": 1,
        "totalSegments": 3,
        "totalCostGbp": 0,
        "totalCostEur": 0,
    }
    assert (summaries[1]["failedCount"], summaries[1]["deliveredCount"]) == (1, 0)


def test_the_client_tag_filter(mock: Mock) -> None:
    send(mock, clientTag="a")
    send(mock, clientTag="b")
    send(mock)
    day = today(mock)

    assert [s["clientTag"] for s in report(mock, day, day, clientTag="b")] == ["b"]
    assert report(mock, day, day, clientTag="none-such") == []


def test_cancelled_messages_are_not_sent(mock: Mock) -> None:
    kept = send(mock, clientTag="t", sendAtUtc=FUTURE)
    cancelled = send(mock, clientTag="t", sendAtUtc=FUTURE)
    assert call(mock, "DELETE", f"/sms/send/{cancelled}").status_code == 200
    day = today(mock)

    [summary] = report(mock, day, day)
    assert summary["sentCount"] == 1 and kept


def test_grouped_by_utc_day_of_creation_within_the_range(mock: Mock) -> None:
    first_day = today(mock)
    send(mock, clientTag="t")
    mock.advance(86_400)
    second_day = today(mock)
    send(mock, clientTag="t")
    send(mock, clientTag="t")

    both = report(mock, first_day, second_day)
    assert [(s["date"], s["sentCount"]) for s in both] == [(first_day, 1), (second_day, 2)]
    assert [s["date"] for s in report(mock, second_day, second_day)] == [second_day]
    assert report(mock, "2000-01-01", "2000-01-02") == []


def test_only_the_caller_s_messages(mock: Mock) -> None:
    send(mock, key="alice", clientTag="t")
    day = today(mock)

    assert report(mock, day, day, key="bob") == []
    assert len(report(mock, day, day, key="alice")) == 1


def test_v1_messages_count_as_untagged(mock: Mock) -> None:
    mock.send()  # POST /v1/Sms/Send
    day = today(mock)

    [summary] = report(mock, day, day)
    assert (summary["clientTag"], summary["sentCount"]) == (None, 1)


def test_costs_come_from_pricing(configured: Callable[..., Mock]) -> None:
    mock = configured({"pricing": {"gbpPerSegment": 0.035, "eurPerSegment": 0.04}})
    send(mock, clientTag="t", content="a" * 161)  # two segments
    send(mock, clientTag="t")
    mock.v1("POST", "/v1/Contacts", json={"phoneNumber": "447700900555", "optedOut": True})
    send(mock, clientTag="t", recipient="+447700900555")  # opted out: Skipped, no charge
    day = today(mock)

    [summary] = report(mock, day, day)
    assert summary["totalSegments"] == 4
    assert summary["totalCostGbp"] == pytest.approx(0.105)
    assert summary["totalCostEur"] == pytest.approx(0.12)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dateEnd": "2026-01-01"}, "dateStart"),
        ({"dateStart": "2026-01-01"}, "dateEnd"),
        ({"dateStart": "2026-1-1", "dateEnd": "2026-01-01"}, "dateStart"),
        ({"dateStart": "2026-01-01", "dateEnd": "tomorrow"}, "dateEnd"),
        ({"dateStart": "2026-01-02", "dateEnd": "2026-01-01"}, "dateEnd"),
    ],
)
def test_bad_dates_are_400(mock: Mock, params: dict[str, str], field: str) -> None:
    assert set(errors_of(call(mock, "GET", REPORT, params=params))) == {field}


def test_the_report_needs_the_key(mock: Mock) -> None:
    response = call(
        mock, "GET", REPORT, key=None, params={"dateStart": "2026-01-01", "dateEnd": "2026-01-01"}
    )

    assert response.status_code == 401


def test_a_negative_price_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="gbpPerSegment"):
        parse_config("pricing: {gbpPerSegment: -1}\n")
