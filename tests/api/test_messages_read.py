"""Reading and cancelling messages: ``GET /v1/Sms``, ``GET``/``DELETE /v1/Sms/{reference}``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock


def listing(mock: Mock, key: str = "test-key", **params: Any) -> dict[str, Any]:
    response = mock.v1("GET", "/v1/Sms", key=key, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def references(mock: Mock, **params: Any) -> list[str]:
    return [m["reference"] for m in listing(mock, **params)["items"]]


def future(mock: Mock, seconds: float = 3600) -> str:
    now = mock.client.get("/_mock/clock").json()["now"]
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- GET /v1/Sms/{reference} ---------------------------------------------------------------


def test_get_message_returns_the_message(mock: Mock) -> None:
    sent = mock.send(clientReference="r1")

    response = mock.v1("GET", f"/v1/Sms/{sent['reference']}")

    assert response.status_code == 200
    assert response.json() == sent


def test_get_message_route_is_case_insensitive(mock: Mock) -> None:
    sent = mock.send()

    assert mock.v1("GET", f"/V1/SMS/{sent['reference']}/").status_code == 200


def test_get_unknown_message_is_404_problem(mock: Mock) -> None:
    response = mock.v1("GET", "/v1/Sms/MNOSUCHREFERENCE")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert "MNOSUCHREFERENCE" in body["detail"]


def test_another_accounts_message_is_404_not_403(mock: Mock) -> None:
    sent = mock.send(key="owner-key")

    response = mock.v1("GET", f"/v1/Sms/{sent['reference']}", key="other-key")

    assert response.status_code == 404
    assert response.json()["status"] == 404
    # Nothing in the answer tells the other account that the message exists.
    unknown = mock.v1("GET", "/v1/Sms/MNOSUCHREFERENCE", key="other-key").json()
    assert response.json()["title"] == unknown["title"]


# --- GET /v1/Sms -------------------------------------------------------------------------------


def test_list_is_newest_first_with_paging_fields(mock: Mock) -> None:
    sent = [mock.send(content=f"m{i}")["reference"] for i in range(3)]

    body = listing(mock)

    assert [m["reference"] for m in body["items"]] == sent[::-1]
    assert (body["page"], body["pageSize"], body["totalCount"]) == (1, 100, 3)
    assert set(body) == {"items", "page", "pageSize", "totalCount"}


def test_list_items_are_full_message_resources(mock: Mock) -> None:
    sent = mock.send()

    assert listing(mock)["items"] == [sent]


def test_empty_list_has_zero_total(mock: Mock) -> None:
    assert listing(mock) == {"items": [], "page": 1, "pageSize": 100, "totalCount": 0}


def test_list_filters_by_batch_reference(mock: Mock) -> None:
    mock.send(batchReference="b1")
    wanted = mock.send(batchReference="b2")["reference"]
    mock.send()

    assert references(mock, batchReference="b2") == [wanted]
    assert references(mock, batchReference="b3") == []


def test_list_filters_by_client_reference(mock: Mock) -> None:
    first = mock.send(clientReference="c1")["reference"]
    mock.send(clientReference="c2")
    third = mock.send(clientReference="c1")["reference"]

    assert references(mock, clientReference="c1") == [third, first]


@pytest.mark.parametrize("to", ["447700900555", "+447700900555"])
def test_list_filters_by_to_with_or_without_plus(mock: Mock, to: str) -> None:
    wanted = mock.send(to="+447700900555")["reference"]
    mock.send(to="447700900556")

    assert references(mock, to=to) == [wanted]


def test_list_by_to_sees_every_send_before_and_after_an_earlier_query(mock: Mock) -> None:
    # The index by recipient is brought up to date when asked: sends between two
    # queries, and a bulk naming one number twice, all count, newest first.
    first = mock.send(to="447700900555")["reference"]
    mock.send(to="447700900556")
    assert references(mock, to="447700900555") == [first]
    second = mock.send(to="447700900555")["reference"]
    bulk = mock.v1(
        "POST",
        "/v1/Sms/SendBulk",
        json={
            "from": "Acme",
            "content": "Hi",
            "messages": [{"to": "447700900555"}, {"to": "447700900557"}, {"to": "447700900555"}],
        },
    ).json()["messages"]

    third, fourth = bulk[0]["reference"], bulk[2]["reference"]
    assert references(mock, to="447700900555") == [fourth, third, second, first]
    assert references(mock, to="447700900557") == [bulk[1]["reference"]]


def test_list_filter_by_an_invalid_to_matches_nothing(mock: Mock) -> None:
    mock.send()

    assert listing(mock, to="not-a-phone")["totalCount"] == 0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("0", "scheduled"),
        ("Scheduled", "scheduled"),
        ("SCHEDULED", "scheduled"),
        ("6", "accepted"),
        ("accepted", "accepted"),
        ("Accepted", "accepted"),
        ("2", "none"),
        ("Delivered", "none"),
    ],
)
def test_list_filters_by_delivery_status_code_or_name(
    mock: Mock, status: str, expected: str
) -> None:
    scheduled = mock.send(sendAt=future(mock))["reference"]
    accepted = mock.send()["reference"]
    wanted = {"scheduled": [scheduled], "accepted": [accepted], "none": []}[expected]

    assert references(mock, deliveryStatus=status) == wanted


@pytest.mark.parametrize("status", ["10", "-1", "Sent", "x"])
def test_list_with_an_unknown_delivery_status_is_400(mock: Mock, status: str) -> None:
    response = mock.v1("GET", "/v1/Sms", params={"deliveryStatus": status})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"deliveryStatus"}


def test_list_filters_by_is_test(mock: Mock) -> None:
    live = mock.send()["reference"]
    test = mock.send(is_test=True)["reference"]

    assert references(mock, isTest="true") == [test]
    assert references(mock, isTest="FALSE") == [live]
    assert references(mock) == [test, live]


def test_list_with_an_invalid_is_test_is_400(mock: Mock) -> None:
    response = mock.v1("GET", "/v1/Sms", params={"isTest": "maybe"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"isTest"}


def test_list_filters_combine(mock: Mock) -> None:
    mock.send(batchReference="b", to="447700900001", is_test=True)
    wanted = mock.send(batchReference="b", to="447700900002", is_test=True)["reference"]
    mock.send(batchReference="b", to="447700900002")

    assert references(mock, batchReference="b", to="447700900002", isTest="true") == [wanted]


def test_list_pages_through_newest_first(mock: Mock) -> None:
    sent = [mock.send(content=f"m{i}")["reference"] for i in range(5)][::-1]

    pages = [listing(mock, page=page, pageSize=2) for page in (1, 2, 3, 4)]

    assert [[m["reference"] for m in p["items"]] for p in pages] == [
        sent[0:2],
        sent[2:4],
        sent[4:5],
        [],
    ]
    assert {p["totalCount"] for p in pages} == {5}
    assert [(p["page"], p["pageSize"]) for p in pages] == [(1, 2), (2, 2), (3, 2), (4, 2)]


@pytest.mark.parametrize("size", [1, 1000])
def test_page_size_from_1_to_1000_is_accepted(mock: Mock, size: int) -> None:
    for _ in range(2):
        mock.send()

    body = listing(mock, pageSize=size)

    assert body["pageSize"] == size
    assert len(body["items"]) == min(size, 2)


def test_paging_parameter_names_are_case_insensitive(mock: Mock) -> None:
    for _ in range(3):
        mock.send()

    body = listing(mock, PAGESIZE=1, Page=2)

    assert (body["page"], body["pageSize"], len(body["items"])) == (2, 1, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pageSize", "0"),
        ("pageSize", "1001"),
        ("pageSize", "-5"),
        ("pageSize", "abc"),
        ("pageSize", "1.5"),
        ("pageSize", "1_0"),  # Python's int() takes it; ASP.NET Core does not
        ("pageSize", "\u0663"),  # ARABIC-INDIC DIGIT THREE
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "2_0"),
    ],
)
def test_out_of_range_paging_is_400_keyed_by_the_parameter(
    mock: Mock, name: str, value: str
) -> None:
    response = mock.v1("GET", "/v1/Sms", params={name: value})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {name}


def test_list_shows_only_the_callers_messages(mock: Mock) -> None:
    mine = mock.send(key="key-a")["reference"]
    mock.send(key="key-b")

    assert listing(mock, key="key-a")["totalCount"] == 1
    assert [m["reference"] for m in listing(mock, key="key-a")["items"]] == [mine]


# --- DELETE /v1/Sms/{reference} ------------------------------------------------------------------


def test_deleting_a_scheduled_message_makes_it_deleted(mock: Mock) -> None:
    sent = mock.send(sendAt=future(mock))

    response = mock.v1("DELETE", f"/v1/Sms/{sent['reference']}")

    assert response.status_code == 200, response.text
    message = response.json()
    assert message["reference"] == sent["reference"]
    assert (message["deliveryStatus"], message["deliveryStatusName"]) == (4, "Deleted")
    assert [(h["deliveryStatus"], h["deliveryStatusName"]) for h in message["history"]] == [
        (0, "Scheduled"),
        (4, "Deleted"),
    ]
    assert mock.message(sent["reference"]) == message


def test_deleted_message_is_not_sent_at_its_send_at(mock: Mock) -> None:
    sent = mock.send(sendAt=future(mock, 5))
    mock.v1("DELETE", f"/v1/Sms/{sent['reference']}")

    mock.advance(60)

    message = mock.message(sent["reference"])
    assert message["deliveryStatusName"] == "Deleted"
    assert len(message["history"]) == 2


def test_deleting_an_accepted_message_is_409(mock: Mock) -> None:
    sent = mock.send()

    response = mock.v1("DELETE", f"/v1/Sms/{sent['reference']}")

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 409
    assert mock.message(sent["reference"])["deliveryStatusName"] == "Accepted"


def test_deleting_a_message_twice_is_409_the_second_time(mock: Mock) -> None:
    sent = mock.send(sendAt=future(mock))

    assert mock.v1("DELETE", f"/v1/Sms/{sent['reference']}").status_code == 200
    assert mock.v1("DELETE", f"/v1/Sms/{sent['reference']}").status_code == 409


def test_deleting_a_message_whose_send_at_has_come_is_409(mock: Mock) -> None:
    sent = mock.send(sendAt=future(mock, 10))
    mock.advance(10)

    assert mock.v1("DELETE", f"/v1/Sms/{sent['reference']}").status_code == 409


def test_deleting_an_unknown_message_is_404(mock: Mock) -> None:
    assert mock.v1("DELETE", "/v1/Sms/MNOSUCHREFERENCE").status_code == 404


def test_deleting_another_accounts_message_is_404_and_leaves_it(mock: Mock) -> None:
    sent = mock.send(key="owner", sendAt=future(mock))

    response = mock.v1("DELETE", f"/v1/Sms/{sent['reference']}", key="intruder")

    assert response.status_code == 404
    assert mock.message(sent["reference"], key="owner")["deliveryStatusName"] == "Scheduled"
