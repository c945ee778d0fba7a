"""Properties of the send endpoints over arbitrary bodies (hypothesis).

Whatever JSON a client sends, Send and SendBulk answer 200, 207 or 400 (never 5xx);
a 400 is a problem whose error keys are camelCase JSON paths; a refused request stores
nothing; and a bulk accounts for every message exactly once.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from conftest import Mock

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SEND_FIELDS = [
    "to",
    "from",
    "content",
    "clientReference",
    "batchReference",
    "deliveryReceiptUrl",
    "sendAt",
]
MESSAGE_FIELDS = ["to", "from", "content", "clientReference", "deliveryReceiptUrl"]
BULK_FIELDS = ["messages", "batchReference", "from", "content", "deliveryReceiptUrl", "sendAt"]

SEND_KEYS = re.compile(r"\$|" + "|".join(SEND_FIELDS))
BULK_KEYS = re.compile(
    r"\$|"
    + "|".join(BULK_FIELDS)
    + r"|messages\[(?P<index>\d+)\](\.(" + "|".join(MESSAGE_FIELDS) + "))?"
)
CAMEL_CASE_PATH = re.compile(r"\$|[a-z][A-Za-z]*(\[\d+\])?(\.[a-z][A-Za-z]*)*")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)


def case_variants(name: str) -> st.SearchStrategy[str]:
    """The property name as sent, in one of several cases (v1 matches them all)."""
    return st.sampled_from([name, name.upper(), name.lower(), name[0].upper() + name[1:]])


good_values: dict[str, st.SearchStrategy[Any]] = {
    "to": st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True),
    "from": st.sampled_from(["Acme", "A", "123", "+447700900123", "Acme Ltd 11"]),
    "content": st.text(min_size=1, max_size=200) | st.sampled_from(["Hi", "€" * 81, "😀"]),
    "clientReference": st.text(min_size=1, max_size=20),
    "batchReference": st.text(min_size=1, max_size=20),
    "deliveryReceiptUrl": st.sampled_from(["http://a.test/r", "https://b.test:8443/x?y=1"]),
    "sendAt": st.sampled_from(
        ["2020-01-01T00:00:00Z", "2999-01-01T00:00:00+02:00", "2026-11-24T10:15:00.123Z"]
    ),
    "messages": st.just([]),
}


def field_value(name: str) -> st.SearchStrategy[Any]:
    """Mostly plausible values for a field, sometimes any JSON value at all."""
    return st.one_of(good_values[name], good_values[name], json_values)


def objects_with(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects holding some of the real field names (in any case), plus noise."""
    entry = st.sampled_from(names).flatmap(
        lambda name: st.tuples(case_variants(name), field_value(name))
    )
    return st.builds(
        lambda pairs, noise: {**noise, **dict(pairs)},
        st.lists(entry, max_size=len(names) + 1),
        st.dictionaries(st.text(max_size=8), json_values, max_size=2),
    )


messages_objects = objects_with(MESSAGE_FIELDS)
message_elements = st.one_of(messages_objects, messages_objects, messages_objects, json_values)
bulk_bodies = st.builds(
    lambda envelope, messages_key, messages: {**envelope, messages_key: messages},
    objects_with([f for f in BULK_FIELDS if f != "messages"]),
    case_variants("messages"),
    st.one_of(st.lists(message_elements, max_size=8), json_values),
)


def stored_count(mock: Mock) -> int:
    response = mock.v1("GET", "/v1/Sms")
    assert response.status_code == 200, response.text
    count: int = response.json()["totalCount"]
    return count


def post(mock: Mock, path: str, body: Any) -> Any:
    raw = json.dumps(body).encode()
    return mock.v1("POST", path, content=raw, headers={"Content-Type": "application/json"})


def check_problem(response: Any, keys: re.Pattern[str]) -> dict[str, list[str]]:
    """A 400 is a validation problem whose every key is a camelCase JSON path."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    assert body["status"] == 400
    assert body["title"] == "One or more validation errors occurred."
    assert body["traceId"]
    errors: dict[str, list[str]] = body["errors"]
    assert errors, body
    for key, messages in errors.items():
        assert CAMEL_CASE_PATH.fullmatch(key), key
        assert keys.fullmatch(key), key
        assert messages and all(isinstance(m, str) and m for m in messages), (key, messages)
    return errors


def check_send(mock: Mock, body: Any) -> None:
    before = stored_count(mock)

    response = post(mock, "/v1/Sms/Send", body)

    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        message = response.json()
        assert message["deliveryStatusName"] in ("Accepted", "Scheduled")
        assert 1 <= message["segments"] <= 10
        assert stored_count(mock) == before + 1
        assert mock.message(message["reference"]) == message
    else:
        check_problem(response, SEND_KEYS)
        assert stored_count(mock) == before


def check_bulk(mock: Mock, body: Any) -> None:
    before = stored_count(mock)

    response = post(mock, "/v1/Sms/SendBulk", body)

    assert response.status_code in (200, 207, 400), response.text
    if response.status_code == 400:
        errors = check_problem(response, BULK_KEYS)
        messages = _messages_of(body)
        for key in errors:
            index = BULK_KEYS.fullmatch(key).group("index")  # type: ignore[union-attr]
            if index is not None:
                assert isinstance(messages, list) and int(index) < len(messages), key
        assert stored_count(mock) == before
        return
    result = response.json()
    messages = _messages_of(body)
    assert isinstance(messages, list)
    accepted = [m["index"] for m in result["messages"]]
    rejected = [e["index"] for e in result["errors"]]
    assert result["acceptedCount"] == len(accepted) >= 1
    assert result["rejectedCount"] == len(rejected)
    assert result["acceptedCount"] + result["rejectedCount"] == len(messages)
    assert sorted(accepted + rejected) == list(range(len(messages)))
    assert (response.status_code == 207) == bool(rejected)
    for entry in result["errors"]:
        assert entry["errors"]
        for key in entry["errors"]:
            assert key == "$" or key in MESSAGE_FIELDS, key
    assert stored_count(mock) == before + result["acceptedCount"]
    segments = 0
    for entry in result["messages"]:
        message = mock.message(entry["reference"])
        assert message["batchReference"] == result["batchReference"]
        assert message["clientReference"] == entry["clientReference"]
        segments += message["segments"]
    assert result["segments"] == segments


def _messages_of(body: Any) -> Any:
    """The ``messages`` value as the server reads it (property names ignore case)."""
    if not isinstance(body, dict):
        return None
    found = None
    for key, value in body.items():
        if key.lower() == "messages":
            found = value
    return found


@PROPERTY_SETTINGS
@given(body=json_values)
def test_send_with_any_json_body_answers_200_or_a_400_problem(mock: Mock, body: Any) -> None:
    check_send(mock, body)


@PROPERTY_SETTINGS
@given(body=objects_with(SEND_FIELDS))
def test_send_with_real_fields_holding_any_values_never_fails_the_server(
    mock: Mock, body: dict[str, Any]
) -> None:
    check_send(mock, body)


@PROPERTY_SETTINGS
@given(body=json_values)
def test_bulk_with_any_json_body_answers_200_207_or_a_400_problem(mock: Mock, body: Any) -> None:
    check_bulk(mock, body)


@PROPERTY_SETTINGS
@given(body=bulk_bodies)
def test_bulk_accounts_for_every_message_exactly_once(mock: Mock, body: dict[str, Any]) -> None:
    check_bulk(mock, body)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode),
    path=st.sampled_from(["/v1/Sms/Send", "/v1/Sms/SendBulk"]),
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_any_bytes_with_any_content_type_never_fail_the_server(
    mock: Mock, raw: bytes, path: str, content_type: str
) -> None:
    before = stored_count(mock)
    headers = {"Content-Type": content_type} if content_type else {}

    response = mock.v1("POST", path, content=raw, headers=headers)

    assert response.status_code < 500, response.text
    if content_type != "application/json":
        assert response.status_code == 415
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert stored_count(mock) == before
