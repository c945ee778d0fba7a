"""``POST /v1/Sms/SendBulk`` and the batch routes (API.md section 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

BULK = "/v1/Sms/SendBulk"
TO = "447700900100"
GOOD = {"to": TO, "from": "Acme", "content": "Hello"}


def post_bulk(mock: Mock, body: Any, query: str = "", **kwargs: Any) -> Any:
    return mock.v1("POST", BULK + query, json=body, **kwargs)


def bulk_ok(mock: Mock, body: Any, query: str = "") -> dict[str, Any]:
    response = post_bulk(mock, body, query)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "One or more validation errors occurred."
    assert body["status"] == 400
    assert body["traceId"]
    errors: dict[str, list[str]] = body["errors"]
    return errors


def stored(mock: Mock, **filters: str) -> list[dict[str, Any]]:
    response = mock.v1("GET", "/v1/Sms", params={"pageSize": "1000", **filters})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert response.json()["totalCount"] == len(items)
    return items


def stored_count(mock: Mock) -> int:
    count: int = mock.v1("GET", "/v1/Sms").json()["totalCount"]
    return count


def future(mock: Mock, seconds: float = 3600) -> str:
    now = mock.client.get("/_mock/clock").json()["now"]
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- Results --------------------------------------------------------------------------


def test_bulk_with_every_message_valid_answers_200(mock: Mock) -> None:
    body = {
        "messages": [
            {**GOOD, "clientReference": "a"},
            {**GOOD, "to": "+447700900101", "clientReference": "b"},
            {**GOOD, "content": "a" * 161},
        ]
    }

    result = bulk_ok(mock, body)

    assert result["acceptedCount"] == 3
    assert result["rejectedCount"] == 0
    assert result["segments"] == 1 + 1 + 2
    assert result["errors"] == []
    assert [(m["index"], m["clientReference"]) for m in result["messages"]] == [
        (0, "a"),
        (1, "b"),
        (2, None),
    ]
    messages = {m["reference"]: m for m in stored(mock)}
    assert set(messages) == {m["reference"] for m in result["messages"]}
    assert {m["to"] for m in messages.values()} == {TO, "447700900101"}
    assert all(m["batchReference"] == result["batchReference"] for m in messages.values())


def test_bulk_with_some_invalid_messages_answers_207(mock: Mock) -> None:
    body = {
        "messages": [
            {**GOOD, "clientReference": "a"},
            {**GOOD, "to": "12"},
            {**GOOD, "content": "ж" * 71},
            {**GOOD, "from": "Acme Limited", "content": ""},
        ]
    }

    response = post_bulk(mock, body)

    assert response.status_code == 207, response.text
    assert response.headers["content-type"] == "application/json"
    result = response.json()
    assert set(result) == {
        "batchReference",
        "acceptedCount",
        "rejectedCount",
        "segments",
        "messages",
        "errors",
    }
    assert (result["acceptedCount"], result["rejectedCount"]) == (2, 2)
    assert result["segments"] == 1 + 2  # summed over accepted messages only
    assert [(m["index"], m["clientReference"]) for m in result["messages"]] == [
        (0, "a"),
        (2, None),
    ]
    assert [e["index"] for e in result["errors"]] == [1, 3]
    assert result["errors"][0]["errors"] == {
        "to": ["'to' must be 7 to 15 digits, optionally prefixed by '+'."]
    }
    assert result["errors"][1]["errors"] == {
        "from": [
            "'from' must be 1 to 11 letters, digits or spaces with at least one letter, "
            "or 3 to 15 digits optionally prefixed by '+'."
        ],
        "content": ["'content' is required."],
    }
    assert sorted(m["reference"] for m in stored(mock)) == sorted(
        m["reference"] for m in result["messages"]
    )


def test_each_accepted_message_is_stored_with_its_own_fields(mock: Mock) -> None:
    body = {
        "messages": [
            {"to": "447700900201", "from": "One", "content": "first", "clientReference": "c1"},
            {"to": "bad"},
            {"to": "447700900202", "from": "Two", "content": "€", "clientReference": "c2"},
        ]
    }

    response = post_bulk(mock, body)

    assert response.status_code == 207
    for entry in response.json()["messages"]:
        message = mock.message(entry["reference"])
        assert message["clientReference"] == entry["clientReference"]
        source = body["messages"][entry["index"]]
        assert (message["to"], message["from"], message["content"]) == (
            source["to"],
            source["from"],
            source["content"],
        )


def test_bulk_with_no_valid_message_is_400_keyed_by_message_path(mock: Mock) -> None:
    body = {
        "messages": [
            {**GOOD, "to": "12"},
            {"to": TO, "from": "Acme"},
            {**GOOD, "from": "", "clientReference": 5},
        ]
    }

    errors = errors_of(post_bulk(mock, body))

    assert errors == {
        "messages[0].to": ["'to' must be 7 to 15 digits, optionally prefixed by '+'."],
        "messages[1].content": ["'content' is required."],
        "messages[2].from": errors["messages[2].from"],
        "messages[2].clientReference": errors["messages[2].clientReference"],
    }
    assert stored_count(mock) == 0


def test_non_object_element_of_messages_is_a_per_message_error(mock: Mock) -> None:
    body = {"messages": [GOOD, "447700900100", 5, None, [GOOD]]}

    response = post_bulk(mock, body)

    assert response.status_code == 207, response.text
    result = response.json()
    assert [m["index"] for m in result["messages"]] == [0]
    assert [e["index"] for e in result["errors"]] == [1, 2, 3, 4]
    assert stored_count(mock) == 1


def test_bulk_of_only_non_objects_is_400_keyed_by_the_element(mock: Mock) -> None:
    errors = errors_of(post_bulk(mock, {"messages": [1, "x"]}))

    assert set(errors) == {"messages[0]", "messages[1]"}
    assert stored_count(mock) == 0


def test_property_names_match_case_insensitively_in_bulks(mock: Mock) -> None:
    body = {
        "MESSAGES": [{"TO": "+447700900100", "CONTENT": "hi", "ClientReference": "x"}],
        "From": "Acme",
        "BATCHREFERENCE": "b-1",
        "unknown": True,
    }

    result = bulk_ok(mock, body)

    assert result["batchReference"] == "b-1"
    message = mock.message(result["messages"][0]["reference"])
    assert (message["to"], message["from"], message["content"]) == (TO, "Acme", "hi")
    assert message["clientReference"] == "x"


def test_bulk_route_matches_case_insensitively(mock: Mock) -> None:
    response = mock.v1("POST", "/V1/sms/SENDBULK/", json={"messages": [GOOD]})

    assert response.status_code == 200, response.text


def test_is_test_applies_to_every_message_of_the_bulk(mock: Mock) -> None:
    result = bulk_ok(mock, {"messages": [GOOD, GOOD]}, "?isTest=TRUE")

    assert all(mock.message(m["reference"])["isTest"] for m in result["messages"])


def test_invalid_is_test_on_a_bulk_is_400(mock: Mock) -> None:
    assert set(errors_of(post_bulk(mock, {"messages": [GOOD]}, "?isTest=nah"))) == {"isTest"}
    assert stored_count(mock) == 0


# --- The envelope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": None},
        {"messages": {"0": GOOD}},
        {"messages": GOOD},
        {"messages": "[]"},
        {"messages": 3},
        {"messages": []},
        {"from": "Acme", "content": "Hi"},
    ],
)
def test_bad_messages_envelope_is_400_keyed_messages_and_stores_nothing(
    mock: Mock, body: dict[str, Any]
) -> None:
    errors = errors_of(post_bulk(mock, body))

    assert set(errors) == {"messages"}
    assert stored_count(mock) == 0


def test_more_than_15000_messages_is_400_keyed_messages_and_stores_nothing(mock: Mock) -> None:
    errors = errors_of(post_bulk(mock, {"messages": [GOOD] * 15_001}))

    assert set(errors) == {"messages"}
    assert stored_count(mock) == 0


def test_bad_envelope_stores_nothing_even_with_good_messages(mock: Mock) -> None:
    body = {"messages": [GOOD, GOOD], "sendAt": "whenever", "batchReference": ""}

    errors = errors_of(post_bulk(mock, body))

    assert set(errors) == {"sendAt", "batchReference"}
    assert stored_count(mock) == 0


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"[]", "application/json", 400),
        (b'[{"to": "447700900100"}]', "application/json", 400),
        (b"7", "application/json", 400),
        (b"{", "application/json", 400),
        (b'{"messages": []}', "text/plain", 415),
    ],
)
def test_bulk_body_must_be_a_json_object(
    mock: Mock, raw: bytes, content_type: str, status: int
) -> None:
    response = mock.v1("POST", BULK, content=raw, headers={"Content-Type": content_type})

    assert response.status_code == status
    if status == 400:
        assert set(errors_of(response)) == {"$"}


def test_bulk_of_15000_messages_is_accepted(mock: Mock) -> None:
    body = {
        "from": "Acme",
        "content": "Hello",
        "messages": [{"to": f"4477009{i:05d}"} for i in range(15_000)],
    }

    result = bulk_ok(mock, body)

    assert result["acceptedCount"] == 15_000
    assert result["segments"] == 15_000
    references = [m["reference"] for m in result["messages"]]
    assert len(set(references)) == 15_000
    assert [m["index"] for m in result["messages"]] == list(range(15_000))
    batch = mock.v1("GET", f"/v1/Sms/Batch/{result['batchReference']}").json()
    assert batch["count"] == 15_000


# --- Batch-level fallbacks ------------------------------------------------------------------


@pytest.mark.parametrize("absent", [True, False], ids=["absent", "null"])
def test_absent_or_null_message_fields_fall_back_to_the_batch_values(
    mock: Mock, absent: bool
) -> None:
    message: dict[str, Any] = {"to": TO}
    if not absent:
        message.update({"from": None, "content": None, "deliveryReceiptUrl": None})
    body = {
        "messages": [message],
        "from": "Batchco",
        "content": "batch content",
        "deliveryReceiptUrl": "https://example.test/batch-receipts",
    }

    result = bulk_ok(mock, body)

    stored_message = mock.message(result["messages"][0]["reference"])
    assert stored_message["from"] == "Batchco"
    assert stored_message["content"] == "batch content"
    assert stored_message["deliveryReceiptUrl"] == "https://example.test/batch-receipts"


def test_message_values_win_over_the_batch_values(mock: Mock) -> None:
    body = {
        "messages": [
            {
                "to": TO,
                "from": "Own",
                "content": "own content",
                "deliveryReceiptUrl": "https://example.test/own",
            }
        ],
        "from": "Batchco",
        "content": "batch content",
        "deliveryReceiptUrl": "https://example.test/batch",
    }

    result = bulk_ok(mock, body)

    message = mock.message(result["messages"][0]["reference"])
    assert (message["from"], message["content"], message["deliveryReceiptUrl"]) == (
        "Own",
        "own content",
        "https://example.test/own",
    )


@pytest.mark.parametrize("field", ["from", "content", "deliveryReceiptUrl"])
def test_empty_string_does_not_fall_back_to_the_batch_value(mock: Mock, field: str) -> None:
    body = {
        "messages": [{"to": TO, field: ""}, {"to": TO}],
        "from": "Batchco",
        "content": "batch content",
        "deliveryReceiptUrl": "https://example.test/batch",
    }

    response = post_bulk(mock, body)

    assert response.status_code == 207, response.text
    result = response.json()
    assert [m["index"] for m in result["messages"]] == [1]
    assert result["errors"] == [
        {"index": 0, "errors": {field: result["errors"][0]["errors"][field]}}
    ]
    assert stored_count(mock) == 1


def test_without_batch_values_a_message_missing_from_and_content_is_rejected(mock: Mock) -> None:
    errors = errors_of(post_bulk(mock, {"messages": [{"to": TO}]}))

    assert errors == {
        "messages[0].from": ["'from' is required."],
        "messages[0].content": ["'content' is required."],
    }


def test_without_any_receipt_url_the_message_has_none(mock: Mock) -> None:
    result = bulk_ok(mock, {"messages": [GOOD]})

    assert mock.message(result["messages"][0]["reference"])["deliveryReceiptUrl"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from", "Acme Limited"),
        ("from", ""),
        ("content", ""),
        ("deliveryReceiptUrl", "not a url"),
        ("deliveryReceiptUrl", "ftp://example.test/x"),
    ],
)
def test_invalid_batch_level_value_is_400_keyed_by_that_field(
    mock: Mock, field: str, value: str
) -> None:
    errors = errors_of(post_bulk(mock, {"messages": [GOOD], field: value}))

    assert set(errors) == {field}
    assert stored_count(mock) == 0


# --- batchReference and sendAt ---------------------------------------------------------------


def test_missing_batch_reference_is_generated(mock: Mock) -> None:
    first = bulk_ok(mock, {"messages": [GOOD]})["batchReference"]
    second = bulk_ok(mock, {"messages": [GOOD], "batchReference": None})["batchReference"]

    assert re.fullmatch(r"[A-Za-z0-9_-]+", first)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", second)
    assert first != second
    assert {m["batchReference"] for m in stored(mock)} == {first, second}


def test_given_batch_reference_is_kept(mock: Mock) -> None:
    result = bulk_ok(mock, {"messages": [GOOD, GOOD], "batchReference": "my-batch-1"})

    assert result["batchReference"] == "my-batch-1"
    assert [m["batchReference"] for m in stored(mock)] == ["my-batch-1", "my-batch-1"]


def test_bulk_send_at_in_the_future_schedules_every_message(mock: Mock) -> None:
    send_at = future(mock)

    result = bulk_ok(mock, {"messages": [GOOD, GOOD], "sendAt": send_at})

    for entry in result["messages"]:
        message = mock.message(entry["reference"])
        assert message["deliveryStatusName"] == "Scheduled"
        assert message["sendAt"] == send_at


# --- GET and DELETE /v1/Sms/Batch/{batchReference} ---------------------------------------------


def test_batch_summary_counts_messages_by_status_name(mock: Mock) -> None:
    body = {
        "batchReference": "B-sum",
        "from": "Acme",
        "content": "Hi",
        "messages": [{"to": "447700900000"}, {"to": "447700900001"}, {"to": "447700900100"}],
    }
    created = bulk_ok(mock, body)

    response = mock.v1("GET", "/v1/Sms/Batch/B-sum")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["batchReference"] == "B-sum"
    assert summary["count"] == 3
    assert summary["statusCounts"] == {"Accepted": 3}
    first = mock.message(created["messages"][0]["reference"])
    assert summary["createdAt"] == first["createdAt"]

    mock.advance(3)  # default scenario: ...001 is Undeliverable, the others Delivered

    summary = mock.v1("GET", "/v1/sms/batch/B-sum/").json()
    assert summary["statusCounts"] == {"Delivered": 2, "Undeliverable": 1}
    assert summary["count"] == 3


def test_unknown_batch_is_404(mock: Mock) -> None:
    assert mock.v1("GET", "/v1/Sms/Batch/nope").status_code == 404
    assert mock.v1("DELETE", "/v1/Sms/Batch/nope").status_code == 404


def test_deleting_a_batch_cancels_its_scheduled_messages(mock: Mock) -> None:
    result = bulk_ok(
        mock, {"messages": [GOOD, GOOD, GOOD], "sendAt": future(mock), "batchReference": "later"}
    )
    bulk_ok(mock, {"messages": [GOOD], "batchReference": "now"})

    response = mock.v1("DELETE", "/v1/Sms/Batch/later")

    assert response.status_code == 200, response.text
    assert response.json() == {"cancelledCount": 3}
    for entry in result["messages"]:
        message = mock.message(entry["reference"])
        assert message["deliveryStatusName"] == "Deleted"
        assert message["deliveryStatus"] == 4
        assert [h["deliveryStatusName"] for h in message["history"]] == ["Scheduled", "Deleted"]
    summary = mock.v1("GET", "/v1/Sms/Batch/later").json()
    assert summary["statusCounts"] == {"Deleted": 3}
    assert mock.v1("GET", "/v1/Sms/Batch/now").json()["statusCounts"] == {"Accepted": 1}


def test_deleting_a_batch_twice_cancels_nothing_the_second_time(mock: Mock) -> None:
    bulk_ok(mock, {"messages": [GOOD], "sendAt": future(mock), "batchReference": "b2"})

    assert mock.v1("DELETE", "/v1/Sms/Batch/b2").json() == {"cancelledCount": 1}
    assert mock.v1("DELETE", "/v1/Sms/Batch/b2").json() == {"cancelledCount": 0}


def test_deleting_a_batch_leaves_messages_that_are_no_longer_scheduled(mock: Mock) -> None:
    result = bulk_ok(mock, {"messages": [GOOD, GOOD], "batchReference": "sent"})

    assert mock.v1("DELETE", "/v1/Sms/Batch/sent").json() == {"cancelledCount": 0}
    for entry in result["messages"]:
        assert mock.message(entry["reference"])["deliveryStatusName"] == "Accepted"


def test_cancelled_batch_messages_stay_deleted_after_their_send_at(mock: Mock) -> None:
    result = bulk_ok(mock, {"messages": [GOOD], "sendAt": future(mock, 10), "batchReference": "b3"})
    mock.v1("DELETE", "/v1/Sms/Batch/b3")

    mock.advance(60)

    message = mock.message(result["messages"][0]["reference"])
    assert message["deliveryStatusName"] == "Deleted"
    assert len(message["history"]) == 2
