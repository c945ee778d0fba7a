"""``POST /sms/send/bulk`` of the current API (API.md 9.2, 9.6), through HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from connect_helpers import FUTURE, GOOD, call, control_message, errors_of

if TYPE_CHECKING:
    from inprocess import Mock

BULK = "/sms/send/bulk"


def batch(mock: Mock, batch_id: str) -> list[dict[str, Any]]:
    response = mock.client.get(
        "/_mock/messages", params={"batchReference": batch_id, "pageSize": 1000}
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_all_valid_is_200_with_a_batch_id_and_the_count(mock: Mock) -> None:
    messages = [{**GOOD, "recipient": f"+4477009001{n:02}"} for n in range(3)]

    response = call(mock, "POST", BULK, json={"messages": messages})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"batchId", "messageCount"} and body["messageCount"] == 3
    assert body["batchId"].isdigit() and 18 <= len(body["batchId"]) <= 19
    stored = batch(mock, body["batchId"])
    assert sorted(m["to"] for m in stored) == [f"4477009001{n:02}" for n in range(3)]
    assert {m["api"] for m in stored} == {"connect"}
    assert all(m["reference"].isdigit() for m in stored)


def test_some_valid_is_207_with_one_error_per_invalid_field(mock: Mock) -> None:
    messages = [GOOD, {"sender": "Acme", "recipient": "447700900123", "content": ""}, GOOD]

    response = call(mock, "POST", BULK, json={"messages": messages})

    assert response.status_code == 207, response.text
    body = response.json()
    assert body["messageCount"] == 2
    errors = body["errors"]
    assert [e["index"] for e in errors] == [1, 1]
    assert errors[0]["error"].startswith("recipient: must be in E.164 format")
    assert errors[1] == {"index": 1, "error": "content: is required."}
    assert len(batch(mock, body["batchId"])) == 2


def test_none_valid_is_400_keyed_by_message_and_field(mock: Mock) -> None:
    messages = [{**GOOD, "sender": ""}, "not an object", {**GOOD, "recipient": "+1"}]

    errors = errors_of(call(mock, "POST", BULK, json={"messages": messages}))

    assert set(errors) == {"messages[0].sender", "messages[1]", "messages[2].recipient"}
    assert errors["messages[0].sender"] == ["'sender' is required."]
    assert mock.client.get("/_mock/messages").json()["totalCount"] == 0


@pytest.mark.parametrize(
    "envelope", [{}, {"messages": None}, {"messages": "x"}, {"messages": {}}, {"messages": []}]
)
def test_an_invalid_envelope_is_400_on_messages(mock: Mock, envelope: dict[str, Any]) -> None:
    assert set(errors_of(call(mock, "POST", BULK, json=envelope))) == {"messages"}


def test_15000_messages_are_accepted_and_15001_refused(mock: Mock) -> None:
    accepted = call(mock, "POST", BULK, json={"messages": [GOOD] * 15_000})
    refused = call(mock, "POST", BULK, json={"messages": [GOOD] * 15_001})

    assert accepted.status_code == 200 and accepted.json()["messageCount"] == 15_000
    assert "15,001" in errors_of(refused)["messages"][0]


def test_send_at_applies_to_every_message(mock: Mock) -> None:
    response = call(mock, "POST", BULK, json={"messages": [GOOD, GOOD], "sendAtUtc": FUTURE})

    assert {m["deliveryStatusName"] for m in batch(mock, response.json()["batchId"])} == {
        "Scheduled"
    }
    bad = call(mock, "POST", BULK, json={"messages": [GOOD], "sendAtUtc": "later"})
    assert set(errors_of(bad)) == {"sendAtUtc"}


def test_per_message_tag_reference_and_unicode(mock: Mock) -> None:
    messages = [
        {**GOOD, "clientTag": "a", "clientReference": "R1", "content": "ok ✓", "unicode": "Strip"},
        {**GOOD, "clientTag": "b", "content": "ok ✓"},
        {**GOOD, "content": "no ✓", "unicode": "Deny"},
    ]

    response = call(mock, "POST", BULK, json={"messages": messages, "enableLinkShortening": True})

    assert response.status_code == 207, response.text
    [error] = response.json()["errors"]
    assert error["index"] == 2 and error["error"].startswith("content: contains '✓'")
    stored = {m["clientTag"]: m for m in batch(mock, response.json()["batchId"])}
    assert (stored["a"]["content"], stored["a"]["encoding"], stored["a"]["clientReference"]) == (
        "ok ",
        "GSM7",
        "R1",
    )
    assert (stored["b"]["content"], stored["b"]["encoding"]) == ("ok ✓", "UCS2")


def test_plain_and_message_by_message_validation_agree(mock: Mock) -> None:
    # Property names in another case, and tags: the column fast path must keep them.
    plain = [{"Sender": "Acme", "RECIPIENT": "+447700900123", "content": "x", "clientTag": "t"}] * 3
    response = call(mock, "POST", BULK, json={"messages": plain})

    assert response.status_code == 200, response.text
    stored = batch(mock, response.json()["batchId"])
    assert {(m["to"], m["from"], m["clientTag"]) for m in stored} == {("447700900123", "Acme", "t")}


def test_bulk_credits_are_all_or_nothing(configured: Any) -> None:
    mock = configured({"accounts": [{"name": "acme", "apiKeys": ["k"], "credits": 2}]})

    refused = call(mock, "POST", BULK, key="k", json={"messages": [GOOD] * 3})

    assert refused.status_code == 402 and refused.json()["statusCode"] == 402
    assert mock.client.get("/_mock/messages").json()["totalCount"] == 0


def test_bulk_message_to_an_opted_out_recipient_is_skipped(mock: Mock) -> None:
    mock.v1("POST", "/v1/Contacts", json={"phoneNumber": "447700900555", "optedOut": True})

    response = call(
        mock, "POST", BULK, json={"messages": [GOOD, {**GOOD, "recipient": "+447700900555"}]}
    )

    assert response.status_code == 200
    by_to = {m["to"]: m for m in batch(mock, response.json()["batchId"])}
    assert by_to["447700900555"]["deliveryStatusName"] == "Skipped"
    assert control_message(mock, by_to["447700900123"]["reference"])["errorCode"] is None
