"""Contacts (API.md section 5): CRUD, lists and filters, validation, opt-out through replies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

ADA = {
    "phoneNumber": "+447700900001",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "custom": {"team": "red"},
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def create(mock: Mock, body: dict[str, Any], key: str = "test-key") -> dict[str, Any]:
    response = mock.v1("POST", "/v1/Contacts", key, json=body)
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()
    return contact


def listed(mock: Mock, **params: str) -> list[dict[str, Any]]:
    response = mock.v1("GET", "/v1/Contacts", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


def reply(mock: Mock, phone: str, content: str) -> None:
    account = mock.v1("GET", "/v1/Account").json()["id"]
    body = {"from": phone, "to": "Acme", "content": content, "account": account}
    response = mock.client.post("/_mock/replies", json=body)
    assert response.status_code == 200, response.text


# --- Create, read, replace, delete --------------------------------------------------------


def test_create_answers_201_with_location_and_the_contact(mock: Mock) -> None:
    response = mock.v1("POST", "/v1/Contacts", json=ADA)

    assert response.status_code == 201, response.text
    contact = response.json()
    assert response.headers["location"] == f"/v1/Contacts/{contact['id']}"
    assert contact == {
        "id": contact["id"],
        "phoneNumber": "447700900001",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "custom": {"team": "red"},
        "groupIds": [],
        "optedOut": False,
        "createdAt": contact["createdAt"],
        "updatedAt": contact["createdAt"],
    }
    assert TIMESTAMP.match(contact["createdAt"])
    assert mock.v1("GET", response.headers["location"]).json() == contact


def test_property_names_are_matched_in_any_case(mock: Mock) -> None:
    contact = create(
        mock, {"PHONENUMBER": "447700900001", "FirstName": "Ada", "Custom": {"Team": "red"}}
    )
    assert contact["phoneNumber"] == "447700900001"
    assert contact["firstName"] == "Ada"
    assert contact["custom"] == {"Team": "red"}  # custom keys are the user's own


def test_only_the_phone_number_is_required(mock: Mock) -> None:
    contact = create(mock, {"phoneNumber": "1234567"})
    assert (contact["firstName"], contact["lastName"], contact["email"]) == (None, None, None)
    assert contact["custom"] == {}


def test_empty_strings_are_stored_as_null(mock: Mock) -> None:
    contact = create(mock, {"phoneNumber": "1234567", "firstName": "", "email": ""})
    assert contact["firstName"] is None
    assert contact["email"] is None


def test_created_at_is_mock_clock_time(mock: Mock) -> None:
    now = mock.client.get("/_mock/clock").json()["now"]
    assert create(mock, ADA)["createdAt"] == now


def test_duplicate_phone_number_is_409(mock: Mock) -> None:
    create(mock, ADA)
    response = mock.v1("POST", "/v1/Contacts", json={"phoneNumber": "447700900001"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "447700900001" in response.json()["detail"]
    assert len(listed(mock)) == 1


def test_the_same_number_in_another_account_is_no_duplicate(mock: Mock) -> None:
    create(mock, ADA)
    assert create(mock, ADA, key="other")["phoneNumber"] == "447700900001"


def test_put_replaces_every_field_and_keeps_id_and_created_at(mock: Mock) -> None:
    contact = create(mock, ADA)
    mock.advance(5)

    response = mock.v1("PUT", f"/v1/Contacts/{contact['id']}", json={"phoneNumber": "447700900002"})

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["id"] == contact["id"]
    assert replaced["phoneNumber"] == "447700900002"
    assert (replaced["firstName"], replaced["email"], replaced["custom"]) == (None, None, {})
    assert replaced["createdAt"] == contact["createdAt"]
    assert replaced["updatedAt"] > contact["updatedAt"]
    assert mock.v1("GET", f"/v1/Contacts/{contact['id']}").json() == replaced


def test_put_to_another_contacts_number_is_409(mock: Mock) -> None:
    create(mock, ADA)
    bob = create(mock, {"phoneNumber": "447700900002", "firstName": "Bob"})

    response = mock.v1("PUT", f"/v1/Contacts/{bob['id']}", json={"phoneNumber": "447700900001"})

    assert response.status_code == 409
    assert mock.v1("GET", f"/v1/Contacts/{bob['id']}").json() == bob


def test_put_keeping_its_own_number_is_fine(mock: Mock) -> None:
    contact = create(mock, ADA)
    response = mock.v1("PUT", f"/v1/Contacts/{contact['id']}", json={**ADA, "firstName": "A"})
    assert response.status_code == 200, response.text
    assert response.json()["firstName"] == "A"


def test_a_changed_number_frees_the_old_one(mock: Mock) -> None:
    contact = create(mock, ADA)
    mock.v1("PUT", f"/v1/Contacts/{contact['id']}", json={"phoneNumber": "447700900002"})
    assert create(mock, ADA)["phoneNumber"] == "447700900001"


def test_delete_answers_204_and_the_contact_is_gone(mock: Mock) -> None:
    contact = create(mock, ADA)

    response = mock.v1("DELETE", f"/v1/Contacts/{contact['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert mock.v1("GET", f"/v1/Contacts/{contact['id']}").status_code == 404
    assert mock.v1("DELETE", f"/v1/Contacts/{contact['id']}").status_code == 404
    assert create(mock, ADA)["phoneNumber"] == "447700900001"  # the number is free again


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_accounts_contact_is_404(mock: Mock, method: str) -> None:
    contact = create(mock, ADA, key="owner")
    body = {"json": ADA} if method == "PUT" else {}

    response = mock.v1(method, f"/v1/Contacts/{contact['id']}", key="intruder", **body)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert mock.v1("GET", f"/v1/Contacts/{contact['id']}", key="owner").json() == contact


def test_routes_ignore_case_and_one_trailing_slash(mock: Mock) -> None:
    contact = create(mock, ADA)
    assert mock.v1("GET", f"/v1/contacts/{contact['id']}/").status_code == 200
    assert mock.v1("GET", "/V1/CONTACTS").json()["totalCount"] == 1


def test_contacts_need_credentials(mock: Mock) -> None:
    response = mock.v1("POST", "/v1/Contacts", key=None, json=ADA)
    assert response.status_code == 401
    assert mock.v1("GET", "/v1/Contacts", key=None).status_code == 401


def test_a_non_json_body_is_415(mock: Mock) -> None:
    response = mock.v1(
        "POST",
        "/v1/Contacts",
        content=b"phoneNumber=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "phoneNumber"),
        ({"phoneNumber": None}, "phoneNumber"),
        ({"phoneNumber": "+44 7700 900001"}, "phoneNumber"),
        ({"phoneNumber": "123456"}, "phoneNumber"),
        ({"phoneNumber": 447700900001}, "phoneNumber"),
        ({"phoneNumber": "447700900001", "firstName": 7}, "firstName"),
        ({"phoneNumber": "447700900001", "lastName": "x" * 101}, "lastName"),
        ({"phoneNumber": "447700900001", "email": "not-an-email"}, "email"),
        ({"phoneNumber": "447700900001", "email": "a@b@c"}, "email"),
        ({"phoneNumber": "447700900001", "custom": ["x"]}, "custom"),
        ({"phoneNumber": "447700900001", "custom": {"x": 1}}, "custom.x"),
        ({"phoneNumber": "447700900001", "custom": {"a b": True}}, "custom.a b"),
        ({"phoneNumber": "447700900001", "optedOut": "yes"}, "optedOut"),
    ],
)
def test_invalid_field_is_400_keyed_by_its_json_path(
    mock: Mock, body: dict[str, Any], key: str
) -> None:
    errors = errors_of(mock.v1("POST", "/v1/Contacts", json=body))
    assert list(errors) == [key]
    assert f"'{key}'" in errors[key][0]
    assert listed(mock) == []


def test_every_bad_field_is_reported_at_once(mock: Mock) -> None:
    body = {"phoneNumber": "x", "email": "nope", "custom": {"a": 1, "b": "ok", "c": []}}
    errors = errors_of(mock.v1("POST", "/v1/Contacts", json=body))
    assert set(errors) == {"phoneNumber", "email", "custom.a", "custom.c"}


@pytest.mark.parametrize("body", [[ADA], "x", 3])
def test_a_body_that_is_not_an_object_is_400_under_dollar(mock: Mock, body: Any) -> None:
    assert list(errors_of(mock.v1("POST", "/v1/Contacts", json=body))) == ["$"]


def test_a_null_custom_value_is_left_out(mock: Mock) -> None:
    contact = create(mock, {"phoneNumber": "447700900001", "custom": {"a": None, "b": "x"}})
    assert contact["custom"] == {"b": "x"}


def test_validation_errors_on_put_are_400_and_change_nothing(mock: Mock) -> None:
    contact = create(mock, ADA)
    response = mock.v1("PUT", f"/v1/Contacts/{contact['id']}", json={"phoneNumber": "1"})
    assert list(errors_of(response)) == ["phoneNumber"]
    assert mock.v1("GET", f"/v1/Contacts/{contact['id']}").json() == contact


# --- Lists --------------------------------------------------------------------------------


def test_list_is_newest_first_with_paging(mock: Mock) -> None:
    ids = [create(mock, {"phoneNumber": f"44770090000{i}"})["id"] for i in range(5)]

    response = mock.v1("GET", "/v1/Contacts", params={"page": "2", "pageSize": "2"})

    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["items"]] == [ids[2], ids[1]]
    assert (body["page"], body["pageSize"], body["totalCount"]) == (2, 2, 5)
    assert [c["id"] for c in listed(mock)] == ids[::-1]


def test_list_paging_is_checked(mock: Mock) -> None:
    assert "pageSize" in errors_of(mock.v1("GET", "/v1/Contacts", params={"pageSize": "0"}))
    assert "page" in errors_of(mock.v1("GET", "/v1/Contacts", params={"page": "0"}))


def test_updated_contact_keeps_its_place_in_the_list(mock: Mock) -> None:
    first = create(mock, ADA)
    second = create(mock, {"phoneNumber": "447700900002"})
    mock.v1("PUT", f"/v1/Contacts/{first['id']}", json={**ADA, "firstName": "Augusta"})
    assert [c["id"] for c in listed(mock)] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ada", ["Ada"]),
        ("LOVE", ["Ada"]),
        ("turing", ["Alan"]),
        ("EXAMPLE.ORG", ["Alan"]),
        ("900002", ["Alan"]),
        ("+44770090000", ["Alan", "Ada"]),
        ("a", ["Alan", "Ada"]),
        ("zzz", []),
    ],
)
def test_search_matches_names_email_and_phone_ignoring_case(
    mock: Mock, search: str, expected: list[str]
) -> None:
    create(mock, ADA)
    create(
        mock,
        {
            "phoneNumber": "447700900002",
            "firstName": "Alan",
            "lastName": "Turing",
            "email": "alan@example.org",
        },
    )
    assert [c["firstName"] for c in listed(mock, search=search)] == expected


def test_search_does_not_look_at_custom_values(mock: Mock) -> None:
    create(mock, ADA)
    assert listed(mock, search="red") == []


def test_opted_out_filter(mock: Mock) -> None:
    ada = create(mock, ADA)
    create(mock, {"phoneNumber": "447700900002", "optedOut": True})

    assert [c["phoneNumber"] for c in listed(mock, optedOut="true")] == ["447700900002"]
    assert [c["id"] for c in listed(mock, optedOut="False")] == [ada["id"]]
    assert "optedOut" in errors_of(mock.v1("GET", "/v1/Contacts", params={"optedOut": "maybe"}))


def test_list_shows_only_the_callers_contacts(mock: Mock) -> None:
    create(mock, ADA, key="owner")
    assert listed(mock) == []


# --- Opt-out ------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", " stop ", "StopAll", "UNSUBSCRIBE", "end", "quit"])
def test_a_stop_reply_opts_the_existing_contact_out(mock: Mock, word: str) -> None:
    contact = create(mock, ADA)
    mock.advance(1)

    reply(mock, "447700900001", word)

    stored = mock.v1("GET", f"/v1/Contacts/{contact['id']}").json()
    assert stored["optedOut"] is True
    assert stored["updatedAt"] > contact["updatedAt"]
    assert stored["firstName"] == "Ada"


def test_a_stop_from_an_unknown_number_creates_an_opted_out_contact(mock: Mock) -> None:
    reply(mock, "447700900009", "STOP")

    [contact] = listed(mock)
    assert contact["phoneNumber"] == "447700900009"
    assert contact["optedOut"] is True
    assert contact["firstName"] is None


@pytest.mark.parametrize("word", ["START", "unstop"])
def test_start_opts_the_contact_back_in(mock: Mock, word: str) -> None:
    reply(mock, "447700900009", "STOP")
    reply(mock, "447700900009", word)

    [contact] = listed(mock)
    assert contact["optedOut"] is False


def test_start_from_an_unknown_number_creates_no_contact(mock: Mock) -> None:
    reply(mock, "447700900009", "START")
    assert listed(mock) == []


def test_an_ordinary_reply_changes_no_contact(mock: Mock) -> None:
    contact = create(mock, ADA)
    reply(mock, "447700900001", "please stop soon")
    assert mock.v1("GET", f"/v1/Contacts/{contact['id']}").json() == contact


def test_a_stop_only_opts_out_in_its_own_account(mock: Mock) -> None:
    create(mock, ADA, key="other")
    reply(mock, "447700900001", "STOP")
    other = mock.v1("GET", "/v1/Contacts", key="other").json()["items"]
    assert [c["optedOut"] for c in other] == [False]


def test_sends_to_an_opted_out_contact_are_skipped(mock: Mock) -> None:
    create(mock, {**ADA, "optedOut": True})

    message = mock.send(to="447700900001")
    bulk = mock.v1(
        "POST",
        "/v1/Sms/SendBulk",
        json={"from": "Acme", "content": "Hi", "messages": [{"to": "+447700900001"}]},
    ).json()

    assert message["deliveryStatusName"] == "Skipped"
    [sent] = bulk["messages"]
    assert mock.message(sent["reference"])["deliveryStatusName"] == "Skipped"


def test_put_opts_in_and_out_and_an_absent_opted_out_keeps_it(mock: Mock) -> None:
    contact = create(mock, ADA)
    path = f"/v1/Contacts/{contact['id']}"

    assert mock.v1("PUT", path, json={**ADA, "optedOut": True}).json()["optedOut"] is True
    assert mock.send(to="447700900001")["deliveryStatusName"] == "Skipped"
    assert mock.v1("PUT", path, json=ADA).json()["optedOut"] is True
    assert mock.v1("PUT", path, json={**ADA, "optedOut": None}).json()["optedOut"] is True
    assert mock.v1("PUT", path, json={**ADA, "optedOut": False}).json()["optedOut"] is False
    assert mock.send(to="447700900001")["deliveryStatusName"] == "Accepted"


def test_deleting_an_opted_out_contact_lifts_the_opt_out(mock: Mock) -> None:
    contact = create(mock, {**ADA, "optedOut": True})
    mock.v1("DELETE", f"/v1/Contacts/{contact['id']}")
    assert mock.send(to="447700900001")["deliveryStatusName"] == "Accepted"


def test_changing_the_number_of_an_opted_out_contact_moves_the_opt_out(mock: Mock) -> None:
    contact = create(mock, {**ADA, "optedOut": True})
    mock.v1("PUT", f"/v1/Contacts/{contact['id']}", json={"phoneNumber": "447700900002"})

    assert mock.send(to="447700900001")["deliveryStatusName"] == "Accepted"
    assert mock.send(to="447700900002")["deliveryStatusName"] == "Skipped"


def test_reset_forgets_contacts(mock: Mock) -> None:
    create(mock, {**ADA, "optedOut": True})
    assert mock.client.post("/_mock/reset").status_code == 200
    assert listed(mock) == []
    assert mock.send(to="447700900001")["deliveryStatusName"] == "Accepted"


def test_reset_of_one_account_forgets_only_its_contacts(mock: Mock) -> None:
    create(mock, ADA)
    create(mock, ADA, key="other")
    other = mock.v1("GET", "/v1/Account", key="other").json()["id"]

    assert mock.client.post("/_mock/reset", params={"account": other}).status_code == 200

    assert len(listed(mock)) == 1
    assert mock.v1("GET", "/v1/Contacts", key="other").json()["totalCount"] == 0


def test_a_scripted_stop_reply_opts_the_phone_out(mock: Mock) -> None:
    # The default scenario's 447700900006 is delivered after 3 s and replies STOP 5 s later.
    mock.send(to="447700900006")
    mock.advance(9)

    [contact] = listed(mock, optedOut="true")
    assert contact["phoneNumber"] == "447700900006"
    assert mock.send(to="447700900006")["deliveryStatusName"] == "Skipped"
