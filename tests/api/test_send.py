"""``POST /v1/Sms/Send``: validation, the message resource, and the v1 conventions.

API.md sections 1 (conventions) and 3 (messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

SEND = "/v1/Sms/Send"
GOOD = {"to": "447700900100", "from": "Acme", "content": "Hello"}
PHONE_ERROR = "'to' must be 7 to 15 digits, optionally prefixed by '+'."
VALIDATION_TYPE = "https://tools.ietf.org/html/rfc9110#section-15.5.1"
VALIDATION_TITLE = "One or more validation errors occurred."
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
MIB = 1024 * 1024


def post_send(mock: Mock, body: Any, query: str = "", **kwargs: Any) -> Any:
    return mock.v1("POST", SEND + query, json=body, **kwargs)


def errors_of(response: Any) -> dict[str, list[str]]:
    """The ``errors`` of a 400 validation problem, after checking its shape."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == VALIDATION_TYPE
    assert body["title"] == VALIDATION_TITLE
    assert body["status"] == 400
    assert body["traceId"]
    errors: dict[str, list[str]] = body["errors"]
    assert errors and all(isinstance(v, list) and v for v in errors.values())
    return errors


def stored_count(mock: Mock) -> int:
    response = mock.v1("GET", "/v1/Sms")
    assert response.status_code == 200, response.text
    count: int = response.json()["totalCount"]
    return count


def clock_now(mock: Mock) -> datetime:
    now = mock.client.get("/_mock/clock").json()["now"]
    return datetime.fromisoformat(now.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- The message resource -----------------------------------------------------------


def test_send_answers_200_with_every_field_of_the_message_resource(mock: Mock) -> None:
    now = clock_now(mock)
    response = post_send(
        mock,
        {
            "to": "447712341231",
            "from": "Somebody",
            "content": "Hello",
            "clientReference": "CLI-1",
            "batchReference": "BATCH-1",
            "deliveryReceiptUrl": "https://example.test/receipts",
        },
        "?isTest=true",
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()
    assert set(message) == {
        "reference",
        "clientReference",
        "batchReference",
        "to",
        "from",
        "content",
        "isTest",
        "segments",
        "encoding",
        "deliveryStatus",
        "deliveryStatusName",
        "deliveryReceiptUrl",
        "sendAt",
        "createdAt",
        "updatedAt",
        "history",
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]+", message["reference"])
    assert message["clientReference"] == "CLI-1"
    assert message["batchReference"] == "BATCH-1"
    assert message["to"] == "447712341231"
    assert message["from"] == "Somebody"
    assert message["content"] == "Hello"
    assert message["isTest"] is True
    assert message["segments"] == 1
    assert message["encoding"] == "GSM7"
    assert message["deliveryStatus"] == 6
    assert message["deliveryStatusName"] == "Accepted"
    assert message["deliveryReceiptUrl"] == "https://example.test/receipts"
    assert message["sendAt"] is None
    assert TIMESTAMP.fullmatch(message["createdAt"])
    assert message["createdAt"] == iso(now)  # mock-clock time: the virtual clock stands still
    assert message["updatedAt"] == message["createdAt"]


def test_optional_fields_are_null_when_not_given(mock: Mock) -> None:
    message = mock.send()

    assert message["clientReference"] is None
    assert message["batchReference"] is None
    assert message["deliveryReceiptUrl"] is None
    assert message["sendAt"] is None
    assert message["isTest"] is False


def test_a_new_message_has_one_history_entry_for_its_first_status(mock: Mock) -> None:
    message = mock.send()

    assert message["history"] == [
        {"deliveryStatus": 6, "deliveryStatusName": "Accepted", "at": message["createdAt"]}
    ]


def test_sent_message_can_be_fetched_back_unchanged(mock: Mock) -> None:
    message = mock.send(clientReference="c-1")

    assert mock.message(message["reference"]) == message


def test_every_send_gets_a_new_reference(mock: Mock) -> None:
    references = {mock.send()["reference"] for _ in range(20)}

    assert len(references) == 20


# --- isTest ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "is_test"),
    [
        ("?isTest=true", True),
        ("?isTest=TRUE", True),
        ("?isTest=True", True),
        ("?isTest=false", False),
        ("?isTest=FALSE", False),
        ("?istest=true", True),
        ("", False),
    ],
)
def test_is_test_accepts_true_and_false_in_any_case(mock: Mock, query: str, is_test: bool) -> None:
    response = post_send(mock, GOOD, query)

    assert response.status_code == 200, response.text
    assert response.json()["isTest"] is is_test


@pytest.mark.parametrize("value", ["yes", "1", "0", "truee", "on"])
def test_invalid_is_test_is_a_400_keyed_is_test(mock: Mock, value: str) -> None:
    response = post_send(mock, GOOD, f"?isTest={value}")

    assert set(errors_of(response)) == {"isTest"}
    assert stored_count(mock) == 0


# --- to ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+447700900100", "447700900100"),
        ("447700900100", "447700900100"),
        ("1234567", "1234567"),
        ("+1234567", "1234567"),
        ("123456789012345", "123456789012345"),
        ("+123456789012345", "123456789012345"),
    ],
)
def test_to_is_stored_and_returned_without_plus(mock: Mock, given: str, stored: str) -> None:
    message = mock.send(to=given)

    assert message["to"] == stored
    assert mock.message(message["reference"])["to"] == stored


@pytest.mark.parametrize(
    "to",
    [
        "123456",  # 6 digits: too short
        "+123456",
        "1234567890123456",  # 16 digits: too long
        "+44 7700 900100",  # spaces
        " 447700900100",
        "447700900100 ",
        "44770090010a",  # a letter
        "+44-7700-900100",
        "++447700900100",
        "٤٤٧٧٠٠٩٠٠١٠٠",  # Arabic-Indic digits
        "".join(chr(0xFF10 + int(d)) for d in "447700900100"),  # full-width digits
        "4477009001²",  # superscript two
        "+",
        "",
    ],
)
def test_invalid_to_is_a_400_keyed_to_with_the_rule(mock: Mock, to: str) -> None:
    response = post_send(mock, {**GOOD, "to": to})

    assert errors_of(response) == {"to": [PHONE_ERROR]}
    assert stored_count(mock) == 0


@pytest.mark.parametrize("to", [447700900100, True, ["447700900100"], {"n": "447700900100"}])
def test_to_that_is_not_a_string_is_a_400_keyed_to(mock: Mock, to: Any) -> None:
    assert set(errors_of(post_send(mock, {**GOOD, "to": to}))) == {"to"}


@pytest.mark.parametrize("body", [{"from": "Acme", "content": "Hi"}, {**GOOD, "to": None}])
def test_absent_or_null_to_is_required(mock: Mock, body: dict[str, Any]) -> None:
    assert errors_of(post_send(mock, body)) == {"to": ["'to' is required."]}


# --- from ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "A",  # alphanumeric, 1 character
        "Acme",
        "Acme Ltd 11",  # alphanumeric, 11 characters
        "ACME 2",
        "1a",
        "9 lives",
        "123",  # numeric, 3 digits
        "123456789012",  # numeric, 12 digits: the numeric rule allows it
        "123456789012345",  # numeric, 15 digits
        "+447700900100",
    ],
)
def test_valid_senders_are_accepted(mock: Mock, sender: str) -> None:
    assert mock.send(**{"from": sender})["from"] == sender


@pytest.mark.parametrize(
    "sender",
    [
        "Acme Limited",  # alphanumeric, 12 characters
        "AcmeAcmeAcme",
        "12",  # numeric, 2 digits
        "+12",
        "1234567890123456",  # numeric, 16 digits
        "",
        "   ",  # no letter
        "Acme!",
        "Acme-Ltd",
        "Äcme",
        "+Acme",
        "Acme\n",
        5,
    ],
)
def test_invalid_sender_is_a_400_keyed_from(mock: Mock, sender: Any) -> None:
    errors = errors_of(post_send(mock, {**GOOD, "from": sender}))

    assert set(errors) == {"from"}
    assert stored_count(mock) == 0


def test_absent_sender_is_required(mock: Mock) -> None:
    body = {"to": "447700900100", "content": "Hi"}

    assert errors_of(post_send(mock, body)) == {"from": ["'from' is required."]}


# --- content, encoding and segments ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"to": "447700900100", "from": "Acme"},
        {**GOOD, "content": ""},
        {**GOOD, "content": None},
        {**GOOD, "content": 42},
        {**GOOD, "content": ["Hello"]},
    ],
)
def test_absent_empty_or_non_string_content_is_a_400_keyed_content(
    mock: Mock, body: dict[str, Any]
) -> None:
    assert set(errors_of(post_send(mock, body))) == {"content"}
    assert stored_count(mock) == 0


def test_every_bad_field_is_reported_at_once(mock: Mock) -> None:
    errors = errors_of(post_send(mock, {"to": "1", "from": "", "sendAt": "soon"}))

    assert set(errors) == {"to", "from", "content", "sendAt"}


@pytest.mark.parametrize(
    ("content", "encoding", "segments"),
    [
        ("a", "GSM7", 1),
        ("a" * 160, "GSM7", 1),
        ("a" * 161, "GSM7", 2),
        ("a" * 306, "GSM7", 2),
        ("a" * 307, "GSM7", 3),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤¡ÄÖÑÜ§¿äöñüà", "GSM7", 1),
        ("€" * 80, "GSM7", 1),  # extension characters count twice: 160 units
        ("€" * 81, "GSM7", 2),
        ("^{}\\[~]|€\f" * 8, "GSM7", 1),  # 10 extension characters, 8 times: 160 units
        ("^{}\\[~]|€\f" * 8 + "a", "GSM7", 2),
        ("a" * 159 + "{", "GSM7", 2),  # 161 units
        ("ж" * 70, "UCS2", 1),
        ("ж" * 71, "UCS2", 2),
        ("ж" * 134, "UCS2", 2),
        ("ж" * 135, "UCS2", 3),
        ("ç", "UCS2", 1),  # lowercase c-cedilla is not GSM-7
        ("😀" * 35, "UCS2", 1),  # an emoji is two UTF-16 units: 70
        ("😀" * 36, "UCS2", 2),
        ("a" * 69 + "😀", "UCS2", 2),  # 71 units
        ("a" * 1530, "GSM7", 10),  # the most a message may take
        ("ж" * 670, "UCS2", 10),
    ],
)
def test_send_reports_encoding_and_segments(
    mock: Mock, content: str, encoding: str, segments: int
) -> None:
    message = mock.send(content=content)

    assert (message["encoding"], message["segments"]) == (encoding, segments)
    assert message["content"] == content


@pytest.mark.parametrize("content", ["a" * 1531, "€" * 766, "ж" * 671, "😀" * 336])
def test_content_over_10_segments_is_a_400_keyed_content(mock: Mock, content: str) -> None:
    errors = errors_of(post_send(mock, {**GOOD, "content": content}))

    assert set(errors) == {"content"}
    assert "10" in errors["content"][0]
    assert stored_count(mock) == 0


# --- sendAt ----------------------------------------------------------------------------


def test_send_at_in_the_future_creates_a_scheduled_message(mock: Mock) -> None:
    send_at = iso(clock_now(mock) + timedelta(hours=1))

    message = mock.send(sendAt=send_at)

    assert message["deliveryStatus"] == 0
    assert message["deliveryStatusName"] == "Scheduled"
    assert message["sendAt"] == send_at
    assert [h["deliveryStatusName"] for h in message["history"]] == ["Scheduled"]


def test_send_at_with_an_offset_is_returned_in_utc(mock: Mock) -> None:
    later = clock_now(mock) + timedelta(hours=3)
    given = later.astimezone(UTC).replace(microsecond=0)
    with_offset = given.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=2)

    message = mock.send(sendAt=with_offset.isoformat() + "+02:00")

    assert message["sendAt"] == iso(given)
    assert message["deliveryStatusName"] == "Scheduled"


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(days=-400), timedelta(0)])
def test_send_at_now_or_in_the_past_creates_an_accepted_message(
    mock: Mock, offset: timedelta
) -> None:
    send_at = iso(clock_now(mock) + offset)

    message = mock.send(sendAt=send_at)

    assert message["deliveryStatusName"] == "Accepted"
    assert message["sendAt"] == send_at


@pytest.mark.parametrize(
    ("given", "rendered"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("0999-06-01T12:30:00+01:00", "0999-06-01T11:30:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_send_at_at_the_ends_of_the_range_is_rendered_as_iso_8601(
    mock: Mock, given: str, rendered: str
) -> None:
    message = mock.send(sendAt=given)

    assert message["sendAt"] == rendered
    assert mock.message(message["reference"])["sendAt"] == rendered


def test_scheduled_message_becomes_accepted_at_its_send_at(mock: Mock) -> None:
    message = mock.send(sendAt=iso(clock_now(mock) + timedelta(seconds=30)))

    mock.advance(29)
    assert mock.message(message["reference"])["deliveryStatusName"] == "Scheduled"
    mock.advance(1)
    history = mock.message(message["reference"])["history"]

    assert [h["deliveryStatusName"] for h in history] == ["Scheduled", "Accepted"]
    assert history[1]["at"] == message["sendAt"]


@pytest.mark.parametrize(
    "send_at",
    [
        "tomorrow",
        "",
        "2026-13-01T00:00:00Z",
        12345,
        # Valid ISO-8601, but outside what a timestamp can hold once in UTC.
        "9999-12-31T23:00:00-14:00",
        "0001-01-01T00:00:00+14:00",
    ],
)
def test_invalid_send_at_is_a_400_keyed_send_at(mock: Mock, send_at: Any) -> None:
    assert set(errors_of(post_send(mock, {**GOOD, "sendAt": send_at}))) == {"sendAt"}
    assert stored_count(mock) == 0


# --- JSON property names and routes ------------------------------------------------------


def test_property_names_match_case_insensitively(mock: Mock) -> None:
    body = {
        "TO": "+447700900123",
        "From": "Acme",
        "CONTENT": "Hi there",
        "clientreference": "ref-9",
        "BatchReference": "b-9",
    }

    response = post_send(mock, body)

    assert response.status_code == 200, response.text
    message = response.json()
    assert (message["to"], message["from"], message["content"]) == (
        "447700900123",
        "Acme",
        "Hi there",
    )
    assert (message["clientReference"], message["batchReference"]) == ("ref-9", "b-9")


def test_unknown_properties_are_ignored(mock: Mock) -> None:
    body = {**GOOD, "priority": "high", "extra": {"nested": [1, 2]}, "isTest": "nonsense"}

    response = post_send(mock, body)

    assert response.status_code == 200, response.text
    assert "priority" not in response.json()
    assert response.json()["isTest"] is False  # isTest is a query parameter, not a property


@pytest.mark.parametrize(
    "path", ["/V1/SMS/SEND", "/v1/sms/send", "/v1/sms/send/", "/v1/Sms/Send/", "/V1/sMs/SeNd/"]
)
def test_routes_match_case_insensitively_with_one_trailing_slash(mock: Mock, path: str) -> None:
    response = mock.v1("POST", path, json=GOOD)

    assert response.status_code == 200, response.text
    assert response.json()["to"] == GOOD["to"]


# --- Content type, malformed bodies and size ----------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_send_without_a_json_content_type_is_415(mock: Mock, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    response = mock.v1("POST", SEND, content=b'{"to": "447700900100"}', headers=headers)

    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 415
    assert stored_count(mock) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json;"]
)
def test_json_content_type_may_carry_a_charset_and_any_case(mock: Mock, content_type: str) -> None:
    response = mock.v1(
        "POST",
        SEND,
        content=b'{"to": "447700900100", "from": "Acme", "content": "Hi"}',
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "raw", [b"{", b'{"to": "447700900100",}', b"not json", b"{'to': 1}", b"", b"   "]
)
def test_malformed_json_is_a_400_under_dollar(mock: Mock, raw: bytes) -> None:
    response = mock.v1("POST", SEND, content=raw, headers={"Content-Type": "application/json"})

    assert set(errors_of(response)) == {"$"}


@pytest.mark.parametrize("raw", [b"[]", b'[{"to": "447700900100"}]', b"42", b'"text"', b"null"])
def test_json_that_is_not_an_object_is_a_400_under_dollar(mock: Mock, raw: bytes) -> None:
    response = mock.v1("POST", SEND, content=raw, headers={"Content-Type": "application/json"})

    assert set(errors_of(response)) == {"$"}
    assert stored_count(mock) == 0


def test_declared_body_over_32_mib_is_413_before_it_is_read(mock: Mock) -> None:
    def small_stream() -> Iterator[bytes]:
        yield b'{"to": "447700900100", "from": "Acme", "content": "Hi"}'

    response = mock.v1(
        "POST",
        SEND,
        content=small_stream(),
        headers={"Content-Type": "application/json", "Content-Length": str(33 * MIB)},
    )

    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert stored_count(mock) == 0


def test_real_body_over_32_mib_is_413(mock: Mock) -> None:
    padding = b" " * (32 * MIB)
    raw = b'{"to": "447700900100", "from": "Acme", "content": "Hi"}' + padding

    response = mock.v1("POST", SEND, content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 413, response.text
    assert stored_count(mock) == 0


def test_streamed_body_over_32_mib_without_a_length_is_413(mock: Mock) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"to": "447700900100", "from": "Acme", "content": "Hi"'
        for _ in range(33):
            yield b" " * MIB
        yield b"}"

    response = mock.v1("POST", SEND, content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413, response.text
    assert stored_count(mock) == 0


def test_body_just_under_32_mib_is_read(mock: Mock) -> None:
    head = b'{"to": "447700900100", "from": "Acme", "content": "Hi"}'
    raw = head[:-1] + b" " * (32 * MIB - len(head)) + b"}"
    assert len(raw) == 32 * MIB

    response = mock.v1("POST", SEND, content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text


# --- Order of checks ---------------------------------------------------------------------


def test_missing_key_wins_over_a_bad_content_type(mock: Mock) -> None:
    response = mock.v1(
        "POST", SEND, key=None, content=b"hello", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 401


def test_missing_key_wins_over_an_oversized_body(mock: Mock) -> None:
    response = mock.v1(
        "POST",
        SEND,
        key=None,
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(33 * MIB)},
    )

    assert response.status_code == 401


def test_bad_content_type_wins_over_invalid_json(mock: Mock) -> None:
    response = mock.v1("POST", SEND, content=b"{nope", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415


def test_bad_content_type_wins_over_an_invalid_is_test(mock: Mock) -> None:
    response = mock.v1(
        "POST", SEND + "?isTest=maybe", content=b"{}", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415


def test_oversized_body_wins_over_invalid_json(mock: Mock) -> None:
    response = mock.v1(
        "POST",
        SEND + "?isTest=maybe",
        content=b"{nope",
        headers={"Content-Type": "application/json", "Content-Length": str(33 * MIB)},
    )

    assert response.status_code == 413


# --- X-Request-Id and problem bodies -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "key", "body", "status"),
    [
        ("POST", SEND, "k", GOOD, 200),
        ("POST", SEND, "k", {"to": "1"}, 400),
        ("POST", SEND, None, GOOD, 401),
        ("GET", "/v1/Sms/NOSUCHREF", "k", None, 404),
        ("GET", "/v1/no/such/route", "k", None, 404),
        ("PUT", SEND, "k", GOOD, 405),
        ("GET", "/_mock/health", None, None, 200),
    ],
)
def test_every_response_echoes_the_request_id(
    mock: Mock, method: str, path: str, key: str | None, body: Any, status: int
) -> None:
    request_id = f"req-{status}-abc"

    response = mock.v1(method, path, key=key, json=body, headers={"X-Request-Id": request_id})

    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == request_id
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["traceId"]


@pytest.mark.parametrize(
    ("method", "path", "key", "body", "status"),
    [
        ("POST", SEND, "k", GOOD, 200),
        ("POST", SEND, "k", {"to": "1"}, 400),
        ("POST", SEND, None, GOOD, 401),
        ("GET", "/v1/Sms/NOSUCHREF", "k", None, 404),
        ("PATCH", SEND, "k", None, 405),
    ],
)
def test_every_response_gets_a_fresh_request_id_when_none_is_sent(
    mock: Mock, method: str, path: str, key: str | None, body: Any, status: int
) -> None:
    first = mock.v1(method, path, key=key, json=body)
    second = mock.v1(method, path, key=key, json=body)

    assert first.status_code == second.status_code == status
    assert first.headers["x-request-id"]
    assert second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("path", [SEND, "/sms/send"])
def test_a_bug_in_a_handler_is_a_500_problem_with_the_request_id(
    mock: Mock, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # The last resort of RequestIdMiddleware, the outermost layer of the app.
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(mock.core, "send", broken)
    body = (
        GOOD if path == SEND else {"sender": "Acme", "recipient": "+447700900100", "content": "Hi"}
    )

    response = mock.v1("POST", path, json=body, headers={"X-Request-Id": "bug-1"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert "log" in response.json()["detail"]


def test_request_id_header_name_is_case_insensitive(mock: Mock) -> None:
    response = mock.v1("POST", SEND, json=GOOD, headers={"x-REQUEST-id": "mine"})

    assert response.headers["X-Request-Id"] == "mine"


def test_trace_id_follows_the_request_id(mock: Mock) -> None:
    def trace(request_id: str) -> str:
        response = post_send(mock, {}, headers={"X-Request-Id": request_id})
        value: str = response.json()["traceId"]
        return value

    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", trace("one"))
    assert trace("one") == trace("one")
    assert trace("one") != trace("two")


def test_validation_problem_has_the_asp_net_core_shape(mock: Mock) -> None:
    response = post_send(mock, {**GOOD, "to": "12"})

    body = response.json()
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert set(body) == {"type", "title", "status", "errors", "traceId"}
    assert body["type"] == VALIDATION_TYPE
    assert body["title"] == VALIDATION_TITLE
    assert body["status"] == 400
    assert body["errors"] == {"to": [PHONE_ERROR]}


@pytest.mark.parametrize(
    ("method", "path", "key", "kwargs", "status"),
    [
        ("POST", SEND, None, {"json": GOOD}, 401),
        ("GET", "/v1/Sms/NOSUCHREF", "k", {}, 404),
        ("PUT", SEND, "k", {"json": GOOD}, 405),
        ("POST", SEND, "k", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
    ],
)
def test_other_problems_carry_detail_and_no_errors(
    mock: Mock, method: str, path: str, key: str | None, kwargs: dict[str, Any], status: int
) -> None:
    response = mock.v1(method, path, key=key, **kwargs)

    body = response.json()
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert set(body) == {"type", "title", "status", "detail", "traceId"}
    assert body["status"] == status
    assert body["type"].startswith("https://tools.ietf.org/html/rfc9110#section-15.5.")
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["title"]


def test_wrong_method_lists_the_allowed_ones(mock: Mock) -> None:
    response = mock.v1("PUT", SEND, json=GOOD)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_missing_key_is_401_with_a_bearer_challenge(mock: Mock) -> None:
    response = post_send(mock, GOOD, key=None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert stored_count(mock) == 0


@pytest.mark.parametrize("key", ["", "   "])
def test_empty_key_is_401(mock: Mock, key: str) -> None:
    response = post_send(mock, GOOD, key=key)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_key_header_name_is_case_insensitive(mock: Mock) -> None:
    response = mock.v1("POST", SEND, key=None, json=GOOD, headers={"x-api-KEY": "test-key"})

    assert response.status_code == 200
    assert stored_count(mock) == 1
