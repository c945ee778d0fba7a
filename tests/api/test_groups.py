"""``/v1/ContactGroups`` (API.md section 5): groups, renames and members."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

GROUPS = "/v1/ContactGroups"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def new_group(mock: Mock, name: str = "VIP", key: str = "test-key") -> dict[str, Any]:
    response = mock.v1("POST", GROUPS, key, json={"name": name})
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


def new_contact(mock: Mock, phone: str, key: str = "test-key") -> dict[str, Any]:
    response = mock.v1("POST", "/v1/Contacts", key, json={"phoneNumber": phone})
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()
    return contact


def add(mock: Mock, group_id: str, contact_ids: list[Any], key: str = "test-key") -> Any:
    return mock.v1("POST", f"{GROUPS}/{group_id}/Contacts", key, json={"contactIds": contact_ids})


def contact(mock: Mock, contact_id: str) -> dict[str, Any]:
    response = mock.v1("GET", f"/v1/Contacts/{contact_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


# --- Groups -------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_group(mock: Mock) -> None:
    response = mock.v1("POST", GROUPS, json={"Name": "VIP customers"})

    assert response.status_code == 201, response.text
    group = response.json()
    assert response.headers["location"] == f"{GROUPS}/{group['id']}"
    assert set(group) == {"id", "name", "contactCount", "createdAt", "updatedAt"}
    assert (group["name"], group["contactCount"]) == ("VIP customers", 0)
    assert TIMESTAMP.match(group["createdAt"])
    assert group["updatedAt"] == group["createdAt"]
    assert mock.v1("GET", response.headers["location"]).json() == group


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": 3}, {"name": "x" * 101}]
)
def test_invalid_name_is_400_under_name(mock: Mock, body: dict[str, Any]) -> None:
    assert list(errors_of(mock.v1("POST", GROUPS, json=body))) == ["name"]


def test_a_body_that_is_not_an_object_is_400_under_dollar(mock: Mock) -> None:
    assert list(errors_of(mock.v1("POST", GROUPS, json=["VIP"]))) == ["$"]


def test_list_is_newest_first_with_paging(mock: Mock) -> None:
    ids = [new_group(mock, f"g{i}")["id"] for i in range(3)]

    body = mock.v1("GET", GROUPS, params={"pageSize": "2"}).json()

    assert [g["id"] for g in body["items"]] == [ids[2], ids[1]]
    assert (body["page"], body["pageSize"], body["totalCount"]) == (1, 2, 3)
    assert "pageSize" in errors_of(mock.v1("GET", GROUPS, params={"pageSize": "1001"}))


def test_two_groups_may_share_a_name(mock: Mock) -> None:
    assert new_group(mock, "Same")["id"] != new_group(mock, "Same")["id"]


def test_put_renames_and_bumps_updated_at(mock: Mock) -> None:
    group = new_group(mock)
    mock.advance(2)

    response = mock.v1("PUT", f"{GROUPS}/{group['id']}", json={"name": "Gold"})

    assert response.status_code == 200, response.text
    renamed = response.json()
    assert (renamed["id"], renamed["name"]) == (group["id"], "Gold")
    assert renamed["createdAt"] == group["createdAt"]
    assert renamed["updatedAt"] > group["updatedAt"]
    assert mock.v1("GET", f"{GROUPS}/{group['id']}").json() == renamed
    assert list(errors_of(mock.v1("PUT", f"{GROUPS}/{group['id']}", json={}))) == ["name"]


def test_delete_answers_204_and_keeps_the_contacts(mock: Mock) -> None:
    group, other = new_group(mock), new_group(mock, "Other")
    member = new_contact(mock, "447700900001")
    add(mock, group["id"], [member["id"]])
    add(mock, other["id"], [member["id"]])

    response = mock.v1("DELETE", f"{GROUPS}/{group['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert mock.v1("GET", f"{GROUPS}/{group['id']}").status_code == 404
    assert mock.v1("DELETE", f"{GROUPS}/{group['id']}").status_code == 404
    assert contact(mock, member["id"])["groupIds"] == [other["id"]]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"name": "Mine"}),
        ("DELETE", "", None),
        ("POST", "/Contacts", {"contactIds": []}),
    ],
)
def test_another_accounts_group_is_404(
    mock: Mock, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    group = new_group(mock, key="owner")
    kwargs = {"json": body} if body is not None else {}

    response = mock.v1(method, f"{GROUPS}/{group['id']}{suffix}", key="intruder", **kwargs)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert mock.v1("GET", f"{GROUPS}/{group['id']}", key="owner").json() == group


def test_groups_need_credentials(mock: Mock) -> None:
    assert mock.v1("GET", GROUPS, key=None).status_code == 401
    assert mock.v1("POST", GROUPS, key=None, json={"name": "x"}).status_code == 401


# --- Members ------------------------------------------------------------------------------


def test_adding_contacts_answers_200_with_the_group_and_lists_group_ids(mock: Mock) -> None:
    group = new_group(mock)
    ada, alan = new_contact(mock, "447700900001"), new_contact(mock, "447700900002")
    mock.advance(1)

    response = add(mock, group["id"], [ada["id"], alan["id"]])

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["contactCount"] == 2
    assert changed["updatedAt"] > group["updatedAt"]
    assert contact(mock, ada["id"])["groupIds"] == [group["id"]]
    assert contact(mock, ada["id"])["updatedAt"] > ada["updatedAt"]
    members = mock.v1("GET", "/v1/Contacts", params={"groupId": group["id"]}).json()
    assert [c["id"] for c in members["items"]] == [alan["id"], ada["id"]]


def test_adding_a_member_again_changes_nothing(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")
    add(mock, group["id"], [ada["id"]])

    response = add(mock, group["id"], [ada["id"], ada["id"]])

    assert response.json()["contactCount"] == 1
    assert contact(mock, ada["id"])["groupIds"] == [group["id"]]


def test_a_contact_lists_every_group_it_is_in(mock: Mock) -> None:
    first, second = new_group(mock, "a"), new_group(mock, "b")
    ada = new_contact(mock, "447700900001")
    add(mock, second["id"], [ada["id"]])
    add(mock, first["id"], [ada["id"]])
    assert contact(mock, ada["id"])["groupIds"] == [second["id"], first["id"]]


def test_unknown_contact_ids_are_400_naming_each_and_nothing_is_applied(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")
    foreign = new_contact(mock, "447700900002", key="other")

    response = add(mock, group["id"], [ada["id"], "C-nope", foreign["id"]])

    errors = errors_of(response)
    assert set(errors) == {"contactIds[1]", "contactIds[2]"}
    assert "C-nope" in errors["contactIds[1]"][0]
    assert contact(mock, ada["id"])["groupIds"] == []
    assert mock.v1("GET", f"{GROUPS}/{group['id']}").json()["contactCount"] == 0


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "contactIds"),
        ({"contactIds": "C1"}, "contactIds"),
        ({"contactIds": ["C1", 7]}, "contactIds[1]"),
        ({"contactIds": [""]}, "contactIds[0]"),
    ],
)
def test_bad_contact_ids_are_400(mock: Mock, body: dict[str, Any], key: str) -> None:
    group = new_group(mock)
    response = mock.v1("POST", f"{GROUPS}/{group['id']}/Contacts", json=body)
    assert list(errors_of(response)) == [key]


def test_property_names_of_the_members_body_ignore_case(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")
    response = mock.v1("POST", f"{GROUPS}/{group['id']}/Contacts", json={"ContactIDs": [ada["id"]]})
    assert response.json()["contactCount"] == 1


def test_removing_a_member_answers_200_with_the_group(mock: Mock) -> None:
    group = new_group(mock)
    ada, alan = new_contact(mock, "447700900001"), new_contact(mock, "447700900002")
    add(mock, group["id"], [ada["id"], alan["id"]])

    response = mock.v1("DELETE", f"{GROUPS}/{group['id']}/Contacts/{ada['id']}")

    assert response.status_code == 200, response.text
    assert response.json()["contactCount"] == 1
    assert contact(mock, ada["id"])["groupIds"] == []
    assert contact(mock, alan["id"])["groupIds"] == [group["id"]]
    members = mock.v1("GET", "/v1/Contacts", params={"groupId": group["id"]}).json()["items"]
    assert [c["id"] for c in members] == [alan["id"]]


def test_removing_a_contact_that_is_no_member_is_200_and_changes_nothing(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")

    response = mock.v1("DELETE", f"{GROUPS}/{group['id']}/Contacts/{ada['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == group


def test_removing_an_unknown_contact_or_from_an_unknown_group_is_404(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")
    assert mock.v1("DELETE", f"{GROUPS}/{group['id']}/Contacts/C-nope").status_code == 404
    assert mock.v1("DELETE", f"{GROUPS}/G-nope/Contacts/{ada['id']}").status_code == 404


def test_a_deleted_contact_leaves_its_groups(mock: Mock) -> None:
    group = new_group(mock)
    ada, alan = new_contact(mock, "447700900001"), new_contact(mock, "447700900002")
    add(mock, group["id"], [ada["id"], alan["id"]])

    mock.v1("DELETE", f"/v1/Contacts/{ada['id']}")

    assert mock.v1("GET", f"{GROUPS}/{group['id']}").json()["contactCount"] == 1


def test_replacing_a_contact_keeps_its_groups(mock: Mock) -> None:
    group = new_group(mock)
    ada = new_contact(mock, "447700900001")
    add(mock, group["id"], [ada["id"]])

    body = {"phoneNumber": "447700900009", "groupIds": []}  # groupIds is not taken by PUT
    replaced = mock.v1("PUT", f"/v1/Contacts/{ada['id']}", json=body).json()

    assert replaced["groupIds"] == [group["id"]]
    assert mock.v1("GET", f"{GROUPS}/{group['id']}").json()["contactCount"] == 1


def test_reset_forgets_groups(mock: Mock) -> None:
    group = new_group(mock)
    assert mock.client.post("/_mock/reset").status_code == 200
    assert mock.v1("GET", f"{GROUPS}/{group['id']}").status_code == 404
    assert mock.v1("GET", GROUPS).json()["totalCount"] == 0
