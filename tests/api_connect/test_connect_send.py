"""``POST /sms/send`` of the current API (API.md 9.1, 9.2, 9.6), through HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from connect_helpers import FUTURE, GOOD, call, control_message, errors_of, send

if TYPE_CHECKING:
    from inprocess import Mock

MIB = 1024 * 1024


def stored(mock: Mock) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = mock.client.get("/_mock/messages").json()["items"]
    return items


# ---- 9.1 conventions -----------------------------------------------------------------


def test_send_answers_a_64_bit_id_as_digits_and_the_country(mock: Mock) -> None:
    response = call(mock, "POST", "/sms/send", json=GOOD)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "countryCode"}
    assert body["countryCode"] == "GB"
    assert isinstance(body["id"], str) and body["id"].isdigit()
    assert 18 <= len(body["id"]) <= 19 and int(body["id"]) < 2**63


def test_ids_increase_and_are_unique_across_accounts(mock: Mock) -> None:
    ids = [send(mock, key=f"key-{n % 2}") for n in range(6)]

    assert [int(i) for i in ids] == sorted({int(i) for i in ids})


def test_the_id_is_the_message_reference_everywhere(mock: Mock) -> None:
    message_id = send(mock, content="Found", clientReference="ORDER-1")

    v1 = mock.message(message_id)  # GET /v1/Sms/{reference} with the same key
    assert (v1["reference"], v1["content"], v1["clientReference"]) == (
        message_id,
        "Found",
        "ORDER-1",
    )
    # Stored as v1 stores numbers: digits without '+'.
    assert v1["to"] == "447700900123" and v1["from"] == "Acme"
    assert control_message(mock, message_id)["reference"] == message_id


@pytest.mark.parametrize("path", ["/sms/send", "/SMS/Send", "/sms/send/", "/Sms/SEND/"])
def test_routes_ignore_case_and_one_trailing_slash(mock: Mock, path: str) -> None:
    assert call(mock, "POST", path, json=GOOD).status_code == 200


def test_request_id_on_answers_and_errors(mock: Mock) -> None:
    ok = call(mock, "POST", "/sms/send", json=GOOD, headers={"X-Request-Id": "abc-1"})
    refused = call(mock, "POST", "/sms/send", key=None, json=GOOD)

    assert ok.headers["x-request-id"] == "abc-1"
    assert refused.headers["x-request-id"]


def test_property_names_are_case_insensitive_and_unknown_ones_ignored(mock: Mock) -> None:
    body = {"SENDER": "Acme", "Recipient": "+447700900123", "cOnTeNt": "Hi", "extra": [1]}

    response = call(mock, "POST", "/sms/send", json=body)

    assert response.status_code == 200, response.text
    assert mock.message(response.json()["id"])["content"] == "Hi"


# ---- authentication ------------------------------------------------------------------


def test_no_key_is_401_in_this_surface_s_shape(mock: Mock) -> None:
    response = call(mock, "POST", "/sms/send", key=None, json=GOOD)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["statusCode"] == 401 and "X-Api-Key" in body["message"]
    assert "errors" not in body
    assert "www-authenticate" not in response.headers
    assert stored(mock) == []


def test_a_bearer_token_is_not_accepted(mock: Mock) -> None:
    token = mock.client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    ).json()["access_token"]

    response = call(
        mock, "POST", "/sms/send", key=None, json=GOOD, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def test_the_header_name_is_case_insensitive(mock: Mock) -> None:
    response = call(mock, "POST", "/sms/send", key=None, json=GOOD, headers={"x-api-key": "k"})

    assert response.status_code == 200


def test_strict_mode_accepts_configured_keys_only(configured: Callable[..., Mock]) -> None:
    mock = configured({"accounts": [{"name": "acme", "apiKeys": ["acme-key"]}]})

    assert call(mock, "POST", "/sms/send", key="acme-key", json=GOOD).status_code == 200
    wrong = call(mock, "POST", "/sms/send", key="other", json=GOOD)
    assert wrong.status_code == 401
    assert wrong.json() == {"statusCode": 401, "message": "The API key is not valid."}


def test_the_key_is_the_same_account_as_in_v1(mock: Mock) -> None:
    message_id = send(mock, key="alice")

    assert mock.v1("GET", f"/v1/Sms/{message_id}", key="alice").status_code == 200
    assert mock.v1("GET", f"/v1/Sms/{message_id}", key="bob").status_code == 404


# ---- bodies: 415, 413, malformed JSON ------------------------------------------------


def test_malformed_json_is_400_under_serializer_errors(mock: Mock) -> None:
    response = call(
        mock,
        "POST",
        "/sms/send",
        content=b'{"sender": ',
        headers={"Content-Type": "application/json"},
    )

    assert set(errors_of(response)) == {"serializerErrors"}


def test_a_body_that_is_not_an_object_is_400_under_serializer_errors(mock: Mock) -> None:
    assert set(errors_of(call(mock, "POST", "/sms/send", json=[GOOD]))) == {"serializerErrors"}


def test_not_json_is_415_in_this_surface_s_shape(mock: Mock) -> None:
    response = call(
        mock, "POST", "/sms/send", content=b"sender=Acme", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["statusCode"] == 415 and "errors" not in body and body["message"]


def test_declared_body_over_32_mib_is_413_in_this_surface_s_shape(mock: Mock) -> None:
    def small() -> Iterator[bytes]:
        yield b"{}"

    response = call(
        mock,
        "POST",
        "/sms/send",
        content=small(),
        headers={"Content-Type": "application/json", "Content-Length": str(33 * MIB)},
    )

    assert response.status_code == 413
    assert response.json()["statusCode"] == 413 and "errors" not in response.json()


def test_auth_comes_before_the_body_checks(mock: Mock) -> None:
    response = call(
        mock, "POST", "/sms/send", key=None, content=b"x", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 401


def test_unknown_route_under_this_surface_is_404_in_its_shape(mock: Mock) -> None:
    response = call(mock, "POST", "/sms/nowhere", json=GOOD)

    assert response.status_code == 404
    assert response.json()["statusCode"] == 404
    # v1's answers keep their own shape.
    assert mock.v1("GET", "/v1/Nowhere").json()["status"] == 404


# ---- 9.2 fields ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["sender", "recipient", "content"])
def test_required_fields(mock: Mock, field: str) -> None:
    body = {k: v for k, v in GOOD.items() if k != field}

    errors = errors_of(call(mock, "POST", "/sms/send", json=body))

    assert errors == {field: [f"'{field}' is required."]}
    assert stored(mock) == []


def test_every_bad_field_is_named_at_once(mock: Mock) -> None:
    body = {"sender": "!!", "recipient": "+12", "content": "", "sendAtUtc": "soon"}

    errors = errors_of(call(mock, "POST", "/sms/send", json=body))

    assert set(errors) == {"sender", "recipient", "content", "sendAtUtc"}


def test_a_recipient_without_plus_is_refused_saying_so(mock: Mock) -> None:
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "recipient": "447700900123"}))

    [message] = errors["recipient"]
    assert "E.164" in message and "add the '+'" in message


@pytest.mark.parametrize(
    "recipient", ["+123456", "+1234567890123456", "+44 7700 900123", "+44770090012x", 447700900123]
)
def test_a_recipient_must_be_plus_and_7_to_15_digits(mock: Mock, recipient: Any) -> None:
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "recipient": recipient}))

    assert "E.164" in errors["recipient"][0]


@pytest.mark.parametrize("recipient", ["+1234567", "+123456789012345"])
def test_recipient_length_bounds_are_accepted(mock: Mock, recipient: str) -> None:
    assert call(mock, "POST", "/sms/send", json={**GOOD, "recipient": recipient}).status_code == 200


@pytest.mark.parametrize("sender", ["", "Twelve Chars", "12", "+1234567890123456", "Acme!"])
def test_the_sender_follows_v1_s_from_rule(mock: Mock, sender: str) -> None:
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "sender": sender}))

    assert set(errors) == {"sender"}


@pytest.mark.parametrize("sender", ["A", "Eleven Char", "123", "+447700900123"])
def test_valid_senders(mock: Mock, sender: str) -> None:
    assert call(mock, "POST", "/sms/send", json={**GOOD, "sender": sender}).status_code == 200


def test_content_follows_v1_s_segment_rules(mock: Mock) -> None:
    ok = send(mock, content="a" * 1530)
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "content": "a" * 1531}))

    assert mock.message(ok)["segments"] == 10
    assert "11 segments" in errors["content"][0]


def test_send_at_in_the_future_schedules(mock: Mock) -> None:
    later = send(mock, sendAtUtc=FUTURE)
    now = send(mock, sendAtUtc="2001-01-01T00:00:00Z")

    assert mock.message(later)["deliveryStatusName"] == "Scheduled"
    assert mock.message(later)["sendAt"] == "2099-01-01T00:00:00.000Z"
    assert mock.message(now)["deliveryStatusName"] == "Accepted"


def test_a_bad_send_at_is_400(mock: Mock) -> None:
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "sendAtUtc": "tomorrow"}))

    assert set(errors) == {"sendAtUtc"}


# ---- unicode -------------------------------------------------------------------------


def test_unicode_allow_is_the_default_and_sends_ucs2(mock: Mock) -> None:
    default = send(mock, content="Tick ✓")
    allowed = send(mock, content="Tick ✓", unicode="Allow")

    for message_id in (default, allowed):
        message = mock.message(message_id)
        assert (message["encoding"], message["content"]) == ("UCS2", "Tick ✓")


def test_unicode_deny_refuses_naming_the_first_offending_character(mock: Mock) -> None:
    response = call(
        mock, "POST", "/sms/send", json={**GOOD, "content": "Café ✓ 😀", "unicode": "deny"}
    )

    [message] = errors_of(response)["content"]
    assert "'✓'" in message and "U+2713" in message
    assert stored(mock) == []


def test_unicode_deny_sends_gsm7_content(mock: Mock) -> None:
    message_id = send(mock, content="Café €5", unicode="Deny")

    assert mock.message(message_id)["encoding"] == "GSM7"


def test_unicode_strip_removes_what_gsm7_cannot_encode(mock: Mock) -> None:
    message_id = send(mock, content="Café ✓ done 😀!", unicode="Strip")

    message = mock.message(message_id)
    assert (message["content"], message["encoding"]) == ("Café  done !", "GSM7")


def test_unicode_strip_that_leaves_nothing_is_400(mock: Mock) -> None:
    errors = errors_of(
        call(mock, "POST", "/sms/send", json={**GOOD, "content": "✓😀", "unicode": "Strip"})
    )

    assert set(errors) == {"content"}


def test_unicode_modes_by_number_as_dotnet_sends_them(mock: Mock) -> None:
    denied = call(mock, "POST", "/sms/send", json={**GOOD, "content": "✓", "unicode": 1})
    stripped = send(mock, content="ok ✓", unicode=2)

    assert set(errors_of(denied)) == {"content"}
    assert mock.message(stripped)["content"] == "ok "
    for bad in (3, -1, True, 1.0):
        refused = call(mock, "POST", "/sms/send", json={**GOOD, "unicode": bad})
        assert set(errors_of(refused)) == {"unicode"}


def test_an_unknown_unicode_mode_is_400(mock: Mock) -> None:
    errors = errors_of(call(mock, "POST", "/sms/send", json={**GOOD, "unicode": "Maybe"}))

    assert set(errors) == {"unicode"}


# ---- link shortening, references, tags -----------------------------------------------


def test_link_shortening_is_accepted_and_links_are_left_alone(mock: Mock) -> None:
    content = "See https://example.test/a/very/long/path?x=1"
    message_id = send(mock, content=content, enableLinkShortening=True)

    assert mock.message(message_id)["content"] == content
    refused = call(mock, "POST", "/sms/send", json={**GOOD, "enableLinkShortening": "yes"})
    assert set(errors_of(refused)) == {"enableLinkShortening"}


def test_client_reference_and_tag_are_kept(mock: Mock) -> None:
    message_id = send(mock, clientReference="ORDER-9", clientTag="welcome")

    shown = control_message(mock, message_id)
    assert (shown["clientReference"], shown["clientTag"], shown["api"]) == (
        "ORDER-9",
        "welcome",
        "connect",
    )


@pytest.mark.parametrize("field", ["clientReference", "clientTag"])
def test_references_and_tags_are_1_to_100_characters(mock: Mock, field: str) -> None:
    for bad in ("", "x" * 101, 5):
        assert set(errors_of(call(mock, "POST", "/sms/send", json={**GOOD, field: bad}))) == {field}


# ---- countryCode ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipient", "country"),
    [
        ("+447700900123", "GB"),
        ("+33612345678", "FR"),
        ("+12015550123", "US"),
        ("+4915112345678", "DE"),
        ("+80012345678", None),  # an international freephone number: no region
        ("+999123456789", None),  # an unassigned country code
    ],
)
def test_country_code_is_the_region_of_the_number(
    mock: Mock, recipient: str, country: str | None
) -> None:
    response = call(mock, "POST", "/sms/send", json={**GOOD, "recipient": recipient})

    assert response.status_code == 200, response.text
    assert response.json()["countryCode"] == country


# ---- credits and opt-out -------------------------------------------------------------


def test_credits_are_spent_per_segment_and_a_send_they_cannot_cover_is_402(
    configured: Callable[..., Mock],
) -> None:
    mock = configured({"accounts": [{"name": "acme", "apiKeys": ["acme-key"], "credits": 3}]})

    send(mock, key="acme-key", content="a" * 161)  # two segments
    refused = call(mock, "POST", "/sms/send", key="acme-key", json={**GOOD, "content": "a" * 161})

    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["statusCode"] == 402 and "errors" not in refused.json()
    assert mock.v1("GET", "/v1/Account", key="acme-key").json()["credits"] == 1


def test_an_opted_out_recipient_gets_a_skipped_message(mock: Mock) -> None:
    contact = mock.v1(
        "POST", "/v1/Contacts", json={"phoneNumber": "447700900555", "optedOut": True}
    )
    assert contact.status_code == 201, contact.text

    message_id = send(mock, recipient="+447700900555")

    shown = control_message(mock, message_id)
    assert shown["deliveryStatusName"] == "Skipped"
    assert (shown["connectStatusName"], shown["errorCode"]) == ("Failed", "OptedOut")
