"""``POST /v1/Sms/SendToGroup`` (API.md section 3): one personalised message per contact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from inprocess import Mock

SEND = "/v1/Sms/SendToGroup"
PEOPLE = [
    {"phoneNumber": "447700900101", "firstName": "Ada", "lastName": "Lovelace",
     "custom": {"code": "A1"}},
    {"phoneNumber": "447700900102", "firstName": "Alan", "custom": {"code": "B2"}},
    {"phoneNumber": "447700900103", "firstName": "Grace", "lastName": "Hopper"},
]  # fmt: skip


def group_of(mock: Mock, people: list[dict[str, Any]], key: str = "test-key") -> str:
    group: dict[str, Any] = mock.v1("POST", "/v1/ContactGroups", key, json={"name": "G"}).json()
    ids = []
    for person in people:
        response = mock.v1("POST", "/v1/Contacts", key, json=person)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    if ids:
        response = mock.v1(
            "POST", f"/v1/ContactGroups/{group['id']}/Contacts", key, json={"contactIds": ids}
        )
        assert response.status_code == 200, response.text
    group_id: str = group["id"]
    return group_id


def send(mock: Mock, body: dict[str, Any], query: str = "", key: str = "test-key") -> Any:
    return mock.v1("POST", SEND + query, key, json=body)


def stored(mock: Mock, batch: str) -> dict[str, dict[str, Any]]:
    """The batch's messages by recipient."""
    items = mock.v1("GET", "/v1/Sms", params={"batchReference": batch}).json()["items"]
    return {m["to"]: m for m in items}


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


def test_each_contact_gets_its_own_first_name_and_the_opted_out_one_is_skipped(
    mock: Mock,
) -> None:
    group_id = group_of(mock, PEOPLE)
    stop = {"from": "447700900102", "to": "Acme", "content": "STOP"}
    account = mock.v1("GET", "/v1/Account").json()["id"]
    assert mock.client.post("/_mock/replies", json={**stop, "account": account}).status_code == 200

    response = send(mock, {"groupId": group_id, "from": "Acme", "content": "Hi {firstName}!"})

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["acceptedCount"], result["rejectedCount"], result["errors"]) == (3, 0, [])
    assert [m["index"] for m in result["messages"]] == [0, 1, 2]
    messages = stored(mock, result["batchReference"])
    assert {to: m["content"] for to, m in messages.items()} == {
        "447700900101": "Hi Ada!",
        "447700900102": "Hi Alan!",
        "447700900103": "Hi Grace!",
    }
    assert {to: m["deliveryStatusName"] for to, m in messages.items()} == {
        "447700900101": "Accepted",
        "447700900102": "Skipped",
        "447700900103": "Accepted",
    }
    assert all(m["from"] == "Acme" for m in messages.values())


def test_every_placeholder_is_filled_and_a_missing_value_is_empty(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE)
    content = "{FIRSTNAME} {lastName} ({phoneNumber}) code={custom.code} {unknown} {"

    result = send(mock, {"groupId": group_id, "from": "Acme", "content": content}).json()

    messages = stored(mock, result["batchReference"])
    assert messages["447700900101"]["content"] == (
        "Ada Lovelace (447700900101) code=A1 {unknown} {"
    )
    assert messages["447700900102"]["content"] == "Alan  (447700900102) code=B2 {unknown} {"
    assert messages["447700900103"]["content"] == "Grace Hopper (447700900103) code= {unknown} {"


def test_index_follows_the_contacts_creation_order(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE)
    result = send(mock, {"groupId": group_id, "from": "Acme", "content": "x"}).json()
    to = [mock.message(m["reference"])["to"] for m in result["messages"]]
    assert to == [p["phoneNumber"] for p in PEOPLE]


def test_answer_has_the_shape_of_send_bulk(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE[:1])
    body = {
        "groupId": group_id,
        "from": "Acme",
        "content": "Hello",
        "batchReference": "MY-BATCH",
        "deliveryReceiptUrl": "https://example.test/r",
    }

    result = send(mock, body, "?isTest=TRUE").json()

    assert set(result) == {
        "batchReference",
        "acceptedCount",
        "rejectedCount",
        "segments",
        "messages",
        "errors",
    }
    assert (result["batchReference"], result["segments"]) == ("MY-BATCH", 1)
    [entry] = result["messages"]
    assert entry == {"index": 0, "reference": entry["reference"], "clientReference": None}
    message = mock.message(entry["reference"])
    assert message["isTest"] is True
    assert message["batchReference"] == "MY-BATCH"
    assert message["deliveryReceiptUrl"] == "https://example.test/r"
    batch = mock.v1("GET", "/v1/Sms/Batch/MY-BATCH").json()
    assert batch["count"] == 1


def test_a_missing_batch_reference_is_generated(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE)
    result = send(mock, {"groupId": group_id, "from": "Acme", "content": "x"}).json()
    assert result["batchReference"]
    assert len(stored(mock, result["batchReference"])) == 3


def test_send_at_in_the_future_schedules_the_messages(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE[:1])
    body = {"groupId": group_id, "from": "Acme", "content": "x", "sendAt": "2999-01-01T00:00:00Z"}
    [entry] = send(mock, body).json()["messages"]
    assert mock.message(entry["reference"])["deliveryStatusName"] == "Scheduled"


def test_a_message_too_long_once_filled_is_rejected_on_its_own_with_207(mock: Mock) -> None:
    people = [
        {"phoneNumber": "447700900101", "firstName": "Ada"},
        {"phoneNumber": "447700900102", "firstName": "x" * 100, "custom": {"long": "y" * 1600}},
    ]
    group_id = group_of(mock, people)

    response = send(mock, {"groupId": group_id, "from": "Acme", "content": "{custom.long}Hi"})

    assert response.status_code == 207, response.text
    result = response.json()
    assert (result["acceptedCount"], result["rejectedCount"]) == (1, 1)
    assert [m["index"] for m in result["messages"]] == [0]
    [error] = result["errors"]
    assert error["index"] == 1
    assert list(error["errors"]) == ["content"]


def test_when_no_message_is_valid_the_answer_is_400_by_index(mock: Mock) -> None:
    group_id = group_of(mock, [{"phoneNumber": "447700900101"}])
    response = send(mock, {"groupId": group_id, "from": "Acme", "content": "{firstName}"})
    assert errors_of(response) == {"messages[0].content": ["'content' is required."]}
    assert mock.v1("GET", "/v1/Sms").json()["totalCount"] == 0


def test_unknown_group_is_404(mock: Mock) -> None:
    response = send(mock, {"groupId": "G-nope", "from": "Acme", "content": "x"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_another_accounts_group_is_404(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE, key="owner")
    response = send(mock, {"groupId": group_id, "from": "Acme", "content": "x"})
    assert response.status_code == 404
    assert mock.v1("GET", "/v1/Sms", key="owner").json()["totalCount"] == 0


def test_an_empty_group_is_400_under_group_id(mock: Mock) -> None:
    group_id = group_of(mock, [])
    response = send(mock, {"groupId": group_id, "from": "Acme", "content": "x"})
    assert list(errors_of(response)) == ["groupId"]


@pytest.mark.parametrize(
    ("change", "keys"),
    [
        ({"groupId": None}, {"groupId"}),
        ({"groupId": 5}, {"groupId"}),
        ({"from": None}, {"from"}),
        ({"from": "Too long sender"}, {"from"}),
        ({"content": ""}, {"content"}),
        ({"content": None}, {"content"}),
        ({"batchReference": ""}, {"batchReference"}),
        ({"deliveryReceiptUrl": "ftp://x"}, {"deliveryReceiptUrl"}),
        ({"sendAt": "tomorrow"}, {"sendAt"}),
        ({"from": 1, "content": 2}, {"from", "content"}),
    ],
)
def test_an_invalid_envelope_is_400_before_the_group_is_looked_at(
    mock: Mock, change: dict[str, Any], keys: set[str]
) -> None:
    body = {"groupId": "G-nope", "from": "Acme", "content": "x", **change}
    assert set(errors_of(send(mock, body))) == keys


def test_property_names_ignore_case(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE)
    response = send(mock, {"GROUPID": group_id, "From": "Acme", "Content": "x"})
    assert response.status_code == 200, response.text


def test_send_to_group_needs_credentials_and_json(mock: Mock) -> None:
    assert send(mock, {"groupId": "G"}, key=None).status_code == 401  # type: ignore[arg-type]
    response = mock.v1("POST", SEND, content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_a_group_send_the_credits_cannot_cover_is_402(
    make_mock: Callable[..., Mock], tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"accounts": [{"name": "a", "apiKeys": ["k"], "credits": 2}]}),
        encoding="utf-8",
    )
    strict = make_mock(config=path)
    group_id = group_of(strict, PEOPLE, key="k")

    response = send(strict, {"groupId": group_id, "from": "Acme", "content": "x"}, key="k")

    assert response.status_code == 402
    assert strict.v1("GET", "/v1/Sms", key="k").json()["totalCount"] == 0
    assert send(strict, {"groupId": group_id, "from": "Acme", "content": "x"}, "?isTest=true",
                key="k").status_code == 200  # fmt: skip


def test_delivery_follows_the_scenario_like_any_message(mock: Mock) -> None:
    group_id = group_of(mock, PEOPLE[:1])
    [entry] = send(mock, {"groupId": group_id, "from": "Acme", "content": "x"}).json()["messages"]
    mock.advance(3)
    assert mock.message(entry["reference"])["deliveryStatusName"] == "Delivered"
