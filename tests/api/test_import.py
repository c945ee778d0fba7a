"""``POST /v1/Contacts/Import`` (API.md section 5): JSON arrays and CSV files of contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

IMPORT = "/v1/Contacts/Import"
CSV = {"Content-Type": "text/csv"}


def import_csv(mock: Mock, text: str | bytes, content_type: str = "text/csv") -> Any:
    content = text.encode() if isinstance(text, str) else text
    return mock.v1("POST", IMPORT, content=content, headers={"Content-Type": content_type})


def imported(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert set(result) == {"created", "updated", "errors"}
    return result


def contacts(mock: Mock) -> dict[str, dict[str, Any]]:
    """Every contact of the test account, by phone number."""
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        response = mock.v1("GET", "/v1/Contacts", params={"page": str(page), "pageSize": "1000"})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        found.update({c["phoneNumber"]: c for c in items})
        if len(items) < 1000:
            return found
        page += 1


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


# --- CSV ----------------------------------------------------------------------------------


def test_csv_rows_become_contacts_and_other_columns_go_to_custom(mock: Mock) -> None:
    text = (
        "phoneNumber,firstName,lastName,email,team,Plan\n"
        "447700900001,Ada,Lovelace,ada@example.com,red,gold\n"
        "+447700900002,Alan,,,blue,\n"
    )
    assert imported(import_csv(mock, text)) == {"created": 2, "updated": 0, "errors": []}

    found = contacts(mock)
    ada, alan = found["447700900001"], found["447700900002"]
    assert (ada["firstName"], ada["lastName"], ada["email"]) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert ada["custom"] == {"team": "red", "Plan": "gold"}
    assert (alan["lastName"], alan["email"]) == (None, None)
    assert alan["custom"] == {"team": "blue"}  # an empty cell is absent


def test_csv_header_names_ignore_case_and_order(mock: Mock) -> None:
    text = "EMAIL,FirstName,PHONENUMBER\nada@example.com,Ada,447700900001\n"
    imported(import_csv(mock, text))
    ada = contacts(mock)["447700900001"]
    assert (ada["firstName"], ada["email"], ada["custom"]) == ("Ada", "ada@example.com", {})


def test_csv_quoted_fields_may_hold_commas_quotes_and_newlines(mock: Mock) -> None:
    text = 'phoneNumber,firstName,note\r\n447700900001,"Ada, ""the"" first","line 1\nline 2"\r\n'
    imported(import_csv(mock, text))
    ada = contacts(mock)["447700900001"]
    assert ada["firstName"] == 'Ada, "the" first'
    assert ada["custom"] == {"note": "line 1\nline 2"}


def test_bad_rows_are_reported_by_data_row_index_and_never_block_good_ones(mock: Mock) -> None:
    text = (
        "phoneNumber,firstName,email\n"
        "447700900001,Ada,\n"
        "not-a-number,Bad,\n"
        "\n"  # a blank line is no row and takes no index
        "447700900003,Alan,nope\n"
        "447700900004,Grace,\n"
        ",Nobody,\n"
    )
    result = imported(import_csv(mock, text))

    assert (result["created"], result["updated"]) == (2, 0)
    assert [e["index"] for e in result["errors"]] == [1, 2, 4]
    assert list(result["errors"][0]["errors"]) == ["phoneNumber"]
    assert list(result["errors"][1]["errors"]) == ["email"]
    assert result["errors"][2]["errors"] == {"phoneNumber": ["'phoneNumber' is required."]}
    assert set(contacts(mock)) == {"447700900001", "447700900004"}


def test_an_existing_number_is_updated_and_keeps_id_groups_and_opt_out(mock: Mock) -> None:
    created = mock.v1(
        "POST",
        "/v1/Contacts",
        json={"phoneNumber": "447700900001", "firstName": "Old", "optedOut": True},
    ).json()
    group = mock.v1("POST", "/v1/ContactGroups", json={"name": "VIP"}).json()
    mock.v1(
        "POST", f"/v1/ContactGroups/{group['id']}/Contacts", json={"contactIds": [created["id"]]}
    )
    mock.advance(1)

    result = imported(import_csv(mock, "phoneNumber,firstName\n447700900001,New\n447700900002,B\n"))

    assert (result["created"], result["updated"]) == (1, 1)
    updated = contacts(mock)["447700900001"]
    assert updated["id"] == created["id"]
    assert updated["firstName"] == "New"
    assert updated["groupIds"] == [group["id"]]
    assert updated["optedOut"] is True
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] > created["updatedAt"]


def test_a_number_twice_in_one_import_is_created_then_updated(mock: Mock) -> None:
    text = "phoneNumber,firstName\n447700900001,First\n+447700900001,Second\n"
    result = imported(import_csv(mock, text))
    assert (result["created"], result["updated"]) == (1, 1)
    assert [c["firstName"] for c in contacts(mock).values()] == ["Second"]


def test_csv_may_start_with_a_byte_order_mark(mock: Mock) -> None:
    text = "\ufeffphoneNumber,firstName\n447700900001,Ada\n".encode()
    assert imported(import_csv(mock, text))["created"] == 1


def test_csv_charset_parameter_is_honoured(mock: Mock) -> None:
    text = "phoneNumber,firstName\n447700900001,Zoë\n".encode("latin-1")
    imported(import_csv(mock, text, "text/csv; charset=ISO-8859-1"))
    assert contacts(mock)["447700900001"]["firstName"] == "Zoë"


def test_csv_that_is_not_utf8_is_400(mock: Mock) -> None:
    text = "phoneNumber,firstName\n447700900001,Zoë\n".encode("latin-1")
    assert list(errors_of(import_csv(mock, text))) == ["$"]


def test_header_only_csv_imports_nothing(mock: Mock) -> None:
    assert imported(import_csv(mock, "phoneNumber,firstName\n")) == {
        "created": 0,
        "updated": 0,
        "errors": [],
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("firstName,email\nAda,a@b.c\n", "phoneNumber"),
        ("phoneNumber,team,TEAM\n447700900001,a,b\n", "twice"),
        ("phoneNumber,,x\n447700900001,a,b\n", "Column 2"),
    ],
    ids=["empty", "blank", "no-phone-column", "duplicate-column", "unnamed-column"],
)
def test_a_bad_header_is_400(mock: Mock, text: str, fragment: str) -> None:
    errors = errors_of(import_csv(mock, text))
    assert list(errors) == ["$"]
    assert fragment in errors["$"][0]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("phoneNumber,firstName\n447700900001,Ada\n447700900002,Alan,extra\n", 3),
        ("phoneNumber,firstName\n447700900001\n", 2),
        ('phoneNumber,firstName\n447700900001,Ada\n447700900002,"Alan\n', 3),
        ('phoneNumber,firstName\n447700900001,"Ada"x\n', 2),
        ("phoneNumber,firstName\n\n\n447700900001,Ada,x\n", 4),
    ],
    ids=["more-fields", "fewer-fields", "unterminated-quote", "text-after-quote", "after-blanks"],
)
def test_malformed_csv_is_400_naming_the_line_and_imports_nothing(
    mock: Mock, text: str, line: int
) -> None:
    errors = errors_of(import_csv(mock, text))

    assert list(errors) == ["$"]
    assert f"Line {line} " in errors["$"][0]
    assert contacts(mock) == {}


def test_csv_of_15000_rows_with_a_few_bad_ones(mock: Mock) -> None:
    bad = {17: "12345", 4_999: "+44 7700 900000", 14_999: ""}
    rows = [
        f"{bad.get(i, f'4477{i:08d}')},First {i},Last,user{i}@example.com,{i % 7}"
        for i in range(15_000)
    ]
    text = "phoneNumber,firstName,lastName,email,bucket\n" + "\n".join(rows) + "\n"

    result = imported(import_csv(mock, text))

    assert result["created"] == 15_000 - len(bad)
    assert result["updated"] == 0
    assert [e["index"] for e in result["errors"]] == sorted(bad)
    assert all(list(e["errors"]) == ["phoneNumber"] for e in result["errors"])
    listing = mock.v1("GET", "/v1/Contacts", params={"pageSize": "1"}).json()
    assert listing["totalCount"] == 15_000 - len(bad)
    newest = listing["items"][0]
    assert newest["phoneNumber"] == "447700014998"
    assert newest["firstName"] == "First 14998"
    assert newest["custom"] == {"bucket": str(14_998 % 7)}

    # Importing the same file again updates every good row.
    again = imported(import_csv(mock, text))
    assert (again["created"], again["updated"]) == (0, 15_000 - len(bad))


def test_more_than_15000_csv_rows_is_400_and_imports_nothing(mock: Mock) -> None:
    rows = "\n".join(f"4477{i:08d}" for i in range(15_001))
    errors = errors_of(import_csv(mock, "phoneNumber\n" + rows + "\n"))
    assert list(errors) == ["$"]
    assert "15,000" in errors["$"][0] and "15,001" in errors["$"][0]
    assert contacts(mock) == {}


# --- JSON ---------------------------------------------------------------------------------


def test_json_array_import_with_per_index_errors(mock: Mock) -> None:
    body = [
        {"phoneNumber": "447700900001", "FirstName": "Ada", "custom": {"team": "red"}},
        {"phoneNumber": "447700900002", "custom": {"team": 1}},
        "not an object",
        {"PHONENUMBER": "+447700900003", "optedOut": True},
    ]
    result = imported(mock.v1("POST", IMPORT, json=body))

    assert (result["created"], result["updated"]) == (2, 0)
    assert result["errors"] == [
        {"index": 1, "errors": {"custom.team": ["'custom.team' must be a string."]}},
        {"index": 2, "errors": {"$": ["A contact must be a JSON object."]}},
    ]
    found = contacts(mock)
    assert found["447700900001"]["custom"] == {"team": "red"}
    assert found["447700900003"]["optedOut"] is True
    assert mock.send(to="447700900003")["deliveryStatusName"] == "Skipped"


def test_json_import_may_opt_an_existing_contact_out(mock: Mock) -> None:
    mock.v1("POST", "/v1/Contacts", json={"phoneNumber": "447700900001"})
    imported(mock.v1("POST", IMPORT, json=[{"phoneNumber": "447700900001", "optedOut": True}]))
    assert contacts(mock)["447700900001"]["optedOut"] is True


def test_json_import_of_an_empty_array_imports_nothing(mock: Mock) -> None:
    assert imported(mock.v1("POST", IMPORT, json=[]))["created"] == 0


@pytest.mark.parametrize("body", [b'{"contacts": []}', b'"x"', b"null"])
def test_json_import_body_must_be_an_array(mock: Mock, body: bytes) -> None:
    response = mock.v1("POST", IMPORT, content=body, headers={"Content-Type": "application/json"})
    assert list(errors_of(response)) == ["$"]


def test_more_than_15000_json_rows_is_400(mock: Mock) -> None:
    body = [{"phoneNumber": f"4477{i:08d}"} for i in range(15_001)]
    errors = errors_of(mock.v1("POST", IMPORT, json=body))
    assert list(errors) == ["$"]
    assert contacts(mock) == {}


def test_malformed_json_is_400_under_dollar(mock: Mock) -> None:
    response = mock.v1("POST", IMPORT, content=b"[{", headers={"Content-Type": "application/json"})
    assert list(errors_of(response)) == ["$"]


# --- Content type, credentials, isolation -------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_other_content_types_are_415(mock: Mock, content_type: str) -> None:
    response = import_csv(mock, "phoneNumber\n447700900001\n", content_type)
    assert response.status_code == 415
    assert "text/csv" in response.json()["detail"]


def test_import_needs_credentials_before_anything_else(mock: Mock) -> None:
    response = mock.v1(
        "POST", IMPORT, key=None, content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 401


def test_import_writes_only_to_the_callers_account(mock: Mock) -> None:
    mock.v1("POST", "/v1/Contacts", key="other", json={"phoneNumber": "447700900001"})
    result = imported(import_csv(mock, "phoneNumber\n447700900001\n"))
    assert (result["created"], result["updated"]) == (1, 0)
    assert mock.v1("GET", "/v1/Contacts", key="other").json()["totalCount"] == 1
