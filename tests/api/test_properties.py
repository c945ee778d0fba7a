"""Properties of the send endpoints over arbitrary bodies (hypothesis).

Whatever JSON a client sends, Send and SendBulk answer 200, 207 or 400 (never 5xx);
a 400 is a problem whose error keys are camelCase JSON paths; a refused request stores
nothing; and a bulk accounts for every message exactly once.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from inprocess import Mock

PROPERTY_SETTINGS = settings(
    max_examples=100,
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
    + r"|messages\[(?P<index>\d+)\](\.("
    + "|".join(MESSAGE_FIELDS)
    + "))?"
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
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
# Smaller values for fields, so a bulk of many messages stays cheap to generate.
field_json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=5,
)


def case_variants(name: str) -> st.SearchStrategy[str]:
    """The property name as sent, in one of several cases (v1 matches them all)."""
    return st.sampled_from([name, name.upper(), name.lower(), name[0].upper() + name[1:]])


good_values: dict[str, st.SearchStrategy[Any]] = {
    "to": st.builds(
        str.__add__, st.sampled_from(["", "+"]), st.text("0123456789", min_size=7, max_size=15)
    ),
    "from": st.sampled_from(["Acme", "A", "123", "+447700900123", "Acme Ltd 11"]),
    "content": st.one_of(
        st.text(min_size=1, max_size=40),
        st.text(min_size=1, max_size=40),
        st.sampled_from(["Hi", "€" * 81, "😀" * 40]),
        st.just("a" * 1531),  # 11 segments: one too many
    ),
    "clientReference": st.text(min_size=1, max_size=20),
    "batchReference": st.text(min_size=1, max_size=20),
    "deliveryReceiptUrl": st.sampled_from(["http://a.test/r", "https://b.test:8443/x?y=1"]),
    "sendAt": st.one_of(
        st.sampled_from(["2020-01-01T00:00:00Z", "2026-11-24T10:15:00.123Z"]),
        st.sampled_from(["2999-01-01T00:00:00+02:00", "2100-06-01T12:00:00"]),
        # At the edges of what a timestamp can hold once converted to UTC.
        st.sampled_from(
            ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"]
        ),
    ),
}


@st.composite
def objects_with(draw: st.DrawFn, names: list[str], usual: frozenset[str]) -> dict[str, Any]:
    """A JSON object holding some of the real field names (in any case), plus noise.

    Each field is absent or present once under one of its spellings; the ``usual`` ones
    are present more often, and most values are plausible, so that a fair share of the
    bodies is valid and the accepting paths are exercised too.
    """
    body: dict[str, Any] = draw(st.dictionaries(st.text(max_size=8), field_json_values, max_size=2))
    for name in names:
        usual_field = name in usual
        # Booleans rather than integers: hypothesis favours the bounds of an integer range.
        if draw(st.booleans()) and (not usual_field or draw(st.booleans())):
            continue
        junk = draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())
        value = draw(field_json_values if junk else good_values[name])
        body[draw(case_variants(name))] = value
    return body


REQUIRED = frozenset({"to", "from", "content"})
messages_objects = objects_with(MESSAGE_FIELDS, frozenset({"to"}))
message_elements = st.one_of(
    messages_objects, messages_objects, messages_objects, field_json_values
)
bulk_bodies = st.builds(
    lambda envelope, messages_key, messages: {**envelope, messages_key: messages},
    objects_with([f for f in BULK_FIELDS if f != "messages"], REQUIRED),
    case_variants("messages"),
    st.one_of(
        st.lists(message_elements, min_size=1, max_size=6),
        st.lists(message_elements, min_size=1, max_size=6),
        st.lists(message_elements, min_size=1, max_size=6),
        st.lists(message_elements, max_size=6) | field_json_values,
    ),
)


def stored(mock: Mock, newest: int = 1) -> tuple[int, list[dict[str, Any]]]:
    """How many messages the account holds, and the ``newest`` of them, newest first."""
    response = mock.v1("GET", "/v1/Sms", params={"pageSize": str(max(newest, 1))})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["totalCount"], body["items"][:newest]


def stored_count(mock: Mock) -> int:
    return stored(mock, 0)[0]


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

    event(f"status {response.status_code}")
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        message = response.json()
        assert message["deliveryStatusName"] in ("Accepted", "Scheduled")
        assert 1 <= message["segments"] <= 10
        assert stored(mock) == (before + 1, [message])
    else:
        check_problem(response, SEND_KEYS)
        assert stored_count(mock) == before


def check_bulk(mock: Mock, body: Any) -> None:
    before = stored_count(mock)

    response = post(mock, "/v1/Sms/SendBulk", body)

    event(f"status {response.status_code}")
    assert response.status_code in (200, 207, 400), response.text
    if response.status_code == 400:
        errors = check_problem(response, BULK_KEYS)
        messages = _messages_of(body)
        for key in errors:
            match = BULK_KEYS.fullmatch(key)
            assert match is not None
            if match["index"] is not None:
                assert isinstance(messages, list) and int(match["index"]) < len(messages), key
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
    after, newest = stored(mock, len(accepted))
    assert after == before + len(accepted)
    # The newest stored messages are exactly the accepted ones, in request order.
    assert [m["reference"] for m in reversed(newest)] == [
        m["reference"] for m in result["messages"]
    ]
    for entry, message in zip(result["messages"], reversed(newest), strict=True):
        assert message["batchReference"] == result["batchReference"]
        assert message["clientReference"] == entry["clientReference"]
    assert result["segments"] == sum(m["segments"] for m in newest)


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
@given(body=objects_with(SEND_FIELDS, REQUIRED))
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
