"""The control routes that steer the simulation: scenario, forced statuses, the clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import pytest

from mock_puresms.domain.timestamps import format_ms, parse_iso

if TYPE_CHECKING:
    from inprocess import Mock

ORDINARY = "447700900100"
YAML = {"Content-Type": "application/yaml"}

ALL_UNDELIVERABLE = """\
name: all-undeliverable
description: Nothing gets through.
seed: 42
default:
  lifecycle: [{status: Enroute, after: 2s}, {status: Undeliverable, after: 5s}]
"""

# Two mistakes, on lines 4 and 6.
BROKEN = """\
name: broken
rules:
  - match: {to: "447700900001"}
    lifecycle: [{status: Bogus, after: 1s}]
  - match: {toPrefix: "44"}
    lifecycle: [{status: Enroute, after: soon}]
"""


def ms(timestamp: str) -> int:
    return parse_iso(timestamp)


def put_scenario(mock: Mock, text: str, headers: dict[str, str] = YAML) -> Any:
    return mock.client.put("/_mock/scenario", content=text, headers=headers)


def force(mock: Mock, reference: str, status: Any) -> Any:
    return mock.client.post(f"/_mock/messages/{reference}/status", json={"deliveryStatus": status})


def statuses(message: dict[str, Any]) -> list[str]:
    return [entry["deliveryStatusName"] for entry in message["history"]]


# --------------------------------------------------------------------------- scenario


def test_get_scenario_describes_the_active_one_with_its_source(mock: Mock) -> None:
    response = mock.client.get("/_mock/scenario")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"name", "description", "seed", "source"}
    assert body["name"] == "default"
    assert body["seed"] is None
    assert "447700900006" in body["description"]
    shipped = (files("mock_puresms") / "scenarios" / "default.yaml").read_text(encoding="utf-8")
    assert body["source"] == shipped


def test_get_scenario_shows_the_seed_of_a_seeded_scenario(
    make_mock: Callable[..., Mock],
) -> None:
    body = make_mock(scenario="realistic").client.get("/_mock/scenario").json()

    assert (body["name"], body["seed"]) == ("realistic", 20261124)


@pytest.mark.parametrize(
    "content_type",
    ["application/yaml", "text/yaml", "application/x-yaml", "application/yaml; charset=utf-8"],
)
def test_put_scenario_as_yaml_makes_it_active(mock: Mock, content_type: str) -> None:
    response = put_scenario(mock, ALL_UNDELIVERABLE, {"Content-Type": content_type})

    assert response.status_code == 200, response.text
    expected = {
        "name": "all-undeliverable",
        "description": "Nothing gets through.",
        "seed": 42,
        "source": ALL_UNDELIVERABLE,
    }
    assert response.json() == expected
    assert mock.client.get("/_mock/scenario").json() == expected


def test_new_messages_follow_a_new_scenario_while_those_in_flight_keep_theirs(
    mock: Mock,
) -> None:
    before = mock.send(to=ORDINARY)
    mock.advance(0.5)

    assert put_scenario(mock, ALL_UNDELIVERABLE).status_code == 200
    after = mock.send(to=ORDINARY)
    mock.advance(60)

    old = mock.message(before["reference"])
    t0 = ms(before["createdAt"])
    assert [(e["deliveryStatusName"], ms(e["at"]) - t0) for e in old["history"]] == [
        ("Accepted", 0),
        ("Enroute", 1000),
        ("Delivered", 3000),
    ]
    new = mock.message(after["reference"])
    t1 = ms(after["createdAt"])
    assert [(e["deliveryStatusName"], ms(e["at"]) - t1) for e in new["history"]] == [
        ("Accepted", 0),
        ("Enroute", 2000),
        ("Undeliverable", 7000),
    ]


def test_scheduled_message_keeps_the_scenario_it_was_sent_under(mock: Mock) -> None:
    now = ms(mock.client.get("/_mock/clock").json()["now"])
    scheduled = mock.send(to=ORDINARY, sendAt=format_ms(now + 60_000))

    assert put_scenario(mock, ALL_UNDELIVERABLE).status_code == 200
    mock.advance(120)

    assert statuses(mock.message(scheduled["reference"])) == [
        "Scheduled",
        "Accepted",
        "Enroute",
        "Delivered",
    ]


def test_scripted_reply_of_a_message_in_flight_survives_a_scenario_swap(mock: Mock) -> None:
    sent = mock.send(to="447700900006")
    mock.advance(1)

    assert put_scenario(mock, ALL_UNDELIVERABLE).status_code == 200
    mock.advance(60)

    assert mock.message(sent["reference"])["deliveryStatusName"] == "Delivered"
    [reply] = mock.v1("GET", "/v1/Replies").json()["items"]
    assert (reply["content"], reply["inReplyTo"]) == ("STOP", sent["reference"])


def test_message_sent_under_a_scenario_without_replies_gets_none_after_a_swap(
    mock: Mock,
) -> None:
    quiet = "name: quiet\ndefault:\n  lifecycle: [{status: Delivered, after: 10s}]\n"
    assert put_scenario(mock, quiet).status_code == 200
    sent = mock.send(to="447700900006")

    # The default scenario makes this phone answer STOP; the message's own scenario does not.
    shipped = (files("mock_puresms") / "scenarios" / "default.yaml").read_text(encoding="utf-8")
    assert put_scenario(mock, shipped).status_code == 200
    mock.advance(60)

    assert mock.message(sent["reference"])["deliveryStatusName"] == "Delivered"
    assert mock.v1("GET", "/v1/Replies").json()["items"] == []
    assert mock.send(to="447700900006")["deliveryStatusName"] == "Accepted"


def test_put_invalid_scenario_lists_each_mistake_by_path_and_line(mock: Mock) -> None:
    response = put_scenario(mock, BROKEN)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert set(errors) == {"rules[0].lifecycle[0].status", "rules[1].lifecycle[0].after"}
    [status_error] = errors["rules[0].lifecycle[0].status"]
    [after_error] = errors["rules[1].lifecycle[0].after"]
    assert status_error.startswith("line 4: ")
    assert "Bogus" in status_error
    assert after_error.startswith("line 6: ")
    assert "soon" in after_error
    assert mock.client.get("/_mock/scenario").json()["name"] == "default"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("name: [unclosed\n", "$"),
        ("", "$"),
        ("rules: {}\n", "rules"),
    ],
)
def test_put_unreadable_scenario_is_a_400_and_keeps_the_active_one(
    mock: Mock, text: str, path: str
) -> None:
    response = put_scenario(mock, text)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [path]
    assert all(message.startswith("line ") for message in errors[path])
    sent = mock.send(to="447700900001")
    mock.advance(3)
    assert mock.message(sent["reference"])["deliveryStatusName"] == "Undeliverable"


def test_put_scenario_as_json_makes_it_active(mock: Mock) -> None:
    scenario = {
        "name": "json-rejects",
        "rules": [{"match": {"to": ORDINARY}, "lifecycle": [{"status": 8, "after": "1s"}]}],
    }

    response = put_scenario(
        mock, json.dumps(scenario, indent=2), {"Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "json-rejects"
    sent = mock.send(to=ORDINARY)
    mock.advance(1)
    assert statuses(mock.message(sent["reference"])) == ["Accepted", "Rejected"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_put_scenario_of_another_media_type_is_a_415(mock: Mock, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    response = put_scenario(mock, ALL_UNDELIVERABLE, headers)

    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    assert mock.client.get("/_mock/scenario").json()["name"] == "default"


# --------------------------------------------------------------------------- forced statuses


@pytest.mark.parametrize(
    ("given", "code", "name"),
    [
        (5, 5, "Undeliverable"),
        ("5", 5, "Undeliverable"),
        ("expired", 3, "Expired"),
        ("Unknown", 7, "Unknown"),
    ],
)
def test_forced_status_is_recorded_now_and_drops_the_rest_of_the_script(
    mock: Mock, given: Any, code: int, name: str
) -> None:
    sent = mock.send(to=ORDINARY)
    mock.advance(1.5)
    now = mock.client.get("/_mock/clock").json()["now"]

    response = force(mock, sent["reference"], given)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["deliveryStatus"], body["deliveryStatusName"]) == (code, name)
    assert body["history"][-1] == {"deliveryStatus": code, "deliveryStatusName": name, "at": now}
    assert statuses(body) == ["Accepted", "Enroute", name]
    assert body["updatedAt"] == now
    mock.advance(3600)
    assert mock.message(sent["reference"]) == body


def test_forcing_a_scheduled_message_cancels_its_acceptance(mock: Mock) -> None:
    now = ms(mock.client.get("/_mock/clock").json()["now"])
    sent = mock.send(to=ORDINARY, sendAt=format_ms(now + 60_000))

    assert force(mock, sent["reference"], "Enroute").status_code == 200
    mock.advance(3600)

    assert statuses(mock.message(sent["reference"])) == ["Scheduled", "Enroute"]


def test_forcing_one_message_leaves_the_rest_of_its_batch_on_script(mock: Mock) -> None:
    bulk = mock.v1(
        "POST",
        "/v1/Sms/SendBulk",
        json={"from": "Acme", "content": "Hi", "messages": [{"to": ORDINARY}] * 3},
    ).json()
    first, *rest = [item["reference"] for item in bulk["messages"]]

    assert force(mock, first, "Rejected").status_code == 200
    mock.advance(10)

    assert statuses(mock.message(first)) == ["Accepted", "Rejected"]
    for reference in rest:
        assert statuses(mock.message(reference)) == ["Accepted", "Enroute", "Delivered"]


def test_forcing_a_final_message_is_a_409(mock: Mock) -> None:
    sent = mock.send(to="447700900001")
    mock.advance(3)

    response = force(mock, sent["reference"], "Delivered")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert mock.message(sent["reference"])["deliveryStatusName"] == "Undeliverable"


def test_forcing_an_unknown_message_is_a_404(mock: Mock) -> None:
    response = force(mock, "MNOSUCHMESSAGE00", "Delivered")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("given", ["Bogus", 10, -1, True, None, 2.5])
def test_forcing_a_bad_status_is_a_400(mock: Mock, given: Any) -> None:
    sent = mock.send(to=ORDINARY)

    response = force(mock, sent["reference"], given)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["deliveryStatus"]
    assert statuses(mock.message(sent["reference"])) == ["Accepted"]


# --------------------------------------------------------------------------- clock


def test_get_clock_shows_mode_now_and_time_scale(mock: Mock) -> None:
    response = mock.client.get("/_mock/clock")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"mode", "now", "timeScale"}
    assert (body["mode"], body["timeScale"]) == ("virtual", 1.0)
    assert format_ms(ms(body["now"])) == body["now"]
    mock.send(to=ORDINARY)
    assert mock.client.get("/_mock/clock").json() == body  # virtual time stands still


def test_real_clock_cannot_be_advanced(make_mock: Callable[..., Mock]) -> None:
    real = make_mock(clock="real", time_scale=2.5)

    response = real.client.post("/_mock/clock/advance", json={"seconds": 5})

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    clock = real.client.get("/_mock/clock").json()
    assert (clock["mode"], clock["timeScale"]) == ("real", 2.5)


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}])
def test_advance_with_a_bad_seconds_is_a_400(mock: Mock, body: dict[str, Any]) -> None:
    before = mock.client.get("/_mock/clock").json()

    response = mock.client.post("/_mock/clock/advance", json=body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["seconds"]
    assert mock.client.get("/_mock/clock").json() == before


def test_a_scenario_key_with_an_escaped_lone_surrogate_is_a_400_not_a_500(mock: Mock) -> None:
    # The YAML reader turns "\ud83d" into a lone surrogate, which the 400 echoes: UTF-8
    # cannot carry it, and the problem body once failed to render (found by schemathesis).
    response = mock.client.put(
        "/_mock/scenario",
        content=b'{"bad\\ud83dkey": 1}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    body = response.json()
    assert [message for messages in body["errors"].values() for message in messages]
    assert "which is not text" in response.text  # the reader names the lone surrogate
