"""Issue 16, defects 6 and 7: hostile inputs answered with a 400 naming the field, not a 500.

Each case is one the adversarial run found answering 500 (or, for fault headers, no
answer at all).
"""

from __future__ import annotations

from typing import Any

import pytest
from inprocess import Mock

HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()
JSON = {"content-type": "application/json"}


def _assert_field_error(response: Any, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["errors"], response.text


@pytest.mark.parametrize(
    "path", ["/v1/Sms", "/v1/Replies", "/_mock/messages", "/_mock/webhooks", "/_mock/faults"]
)
@pytest.mark.parametrize("name", ["page", "pageSize"])
def test_a_page_of_thousands_of_digits_is_a_400(mock: Mock, path: str, name: str) -> None:
    response = mock.v1("GET", f"{path}?{name}={HUGE}")
    _assert_field_error(response, name)
    assert "whole number" in response.json()["errors"][name][0]


def test_a_page_of_zeros_then_a_digit_is_still_read(mock: Mock) -> None:
    assert mock.v1("GET", "/v1/Sms?page=" + "0" * 5000 + "1").status_code == 200


def _put_scenario(mock: Mock, text: str) -> Any:
    return mock.client.put("/_mock/scenario", content=text.encode(), headers=JSON)


def _active_scenario_still_default(mock: Mock) -> None:
    response = mock.client.get("/_mock/scenario")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "default"


def test_a_scenario_nested_500_deep_is_a_400(mock: Mock) -> None:
    response = _put_scenario(mock, '{"rules": ' + "[" * 500 + "]" * 500 + "}")
    _assert_field_error(
        response,
        "rules[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
        "[0][0][0][0][0][0][0][0][0][0][0][0][0]",
    )
    assert "nested more than" in str(response.json()["errors"])
    _active_scenario_still_default(mock)


def test_a_duration_beyond_decimal_precision_is_a_400(mock: Mock) -> None:
    text = (
        '{"default": {"lifecycle": '
        '[{"status": "Delivered", "after": "99999999999999999999999999999d"}]}}'
    )
    response = _put_scenario(mock, text)
    _assert_field_error(response, "default.lifecycle[0].after")
    assert "at most" in response.json()["errors"]["default.lifecycle[0].after"][0]
    _active_scenario_still_default(mock)


@pytest.mark.parametrize("seed", ["18446744073709551616", "-9223372036854775809", HUGE])
def test_a_seed_beyond_64_bits_is_a_400_and_never_active(mock: Mock, seed: str) -> None:
    response = _put_scenario(mock, '{"name": "big", "seed": ' + seed + "}")
    _assert_field_error(response, "seed")
    _active_scenario_still_default(mock)


def test_the_largest_64_bit_seed_is_taken(mock: Mock) -> None:
    response = _put_scenario(mock, '{"name": "big", "seed": 9223372036854775807}')
    assert response.status_code == 200, response.text
    assert mock.client.get("/_mock/scenario").json()["seed"] == 2**63 - 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"description": "a\\udfffb"}', "description"),
        ('{"\\ud800": 1}', "$"),
        ('{"replies": [{"match": {}, "after": "1s", "content": "\\udc00"}]}', "replies[0].content"),
    ],
)
def test_a_lone_surrogate_is_a_400_and_never_active(mock: Mock, text: str, field: str) -> None:
    response = _put_scenario(mock, text)
    _assert_field_error(response, field)
    assert "surrogate" in response.json()["errors"][field][0]
    _active_scenario_still_default(mock)


def test_basic_credentials_that_are_not_ascii_are_refused(mock: Mock) -> None:
    response = mock.client.post(
        "/connect/token",
        headers=[("Authorization", b"Basic \xff\xfe")],
        data={"grant_type": "client_credentials"},
    )
    # RFC 6749 section 5.2: bad client authentication is invalid_client (a 401), as for
    # any other unreadable Basic credentials.
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("value", ["a\x00b", "a\x01", "\x7f", "a\x1bb", " padded", "tail\t"])
def test_a_fault_header_value_with_control_characters_is_a_400(mock: Mock, value: str) -> None:
    response = mock.client.post(
        "/_mock/faults",
        json={"method": "GET", "path": "/v1/Sms", "status": 503, "headers": {"X-A": value}},
    )
    _assert_field_error(response, "headers")
    assert mock.client.get("/_mock/faults").json()["items"] == []


def test_a_fault_header_value_with_inner_spaces_and_tabs_is_taken(mock: Mock) -> None:
    response = mock.client.post(
        "/_mock/faults",
        json={"method": "GET", "path": "/v1/Sms", "status": 503, "headers": {"X-A": "a b\tc"}},
    )
    assert response.status_code in (200, 201), response.text
    assert mock.v1("GET", "/v1/Sms").headers["x-a"] == "a b\tc"


def test_a_fault_body_nested_too_deep_is_a_400(mock: Mock) -> None:
    # Found by the fuzz test: the body is written back as JSON, which stops at 255 levels.
    body = {"method": "GET", "path": "/v1/Sms", "status": 418, "body": [[[]]]}
    for _ in range(600):
        body["body"] = [body["body"]]
    response = mock.client.post("/_mock/faults", json=body)
    _assert_field_error(response, "body")
    assert "nested at most 64" in response.json()["errors"]["body"][0]


def test_a_query_parameter_given_twice_is_a_400(mock: Mock) -> None:
    # Found by schemathesis' negative data: the document allows one value, and which of
    # several the server took (the last) was a guess.
    response = mock.v1("GET", "/v1/Replies?inReplyTo=a&INREPLYTO=b")
    _assert_field_error(response, "inReplyTo")
    assert mock.v1("GET", "/v1/Sms?page=1&pageSize=5").status_code == 200
