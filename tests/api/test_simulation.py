"""The simulation as a client sees it: lifecycles on the virtual clock, schedules, repeatability.

Every timestamp is checked exactly: a history entry's ``at`` is the mock-clock time the
change was due, so it is derived from ``createdAt`` (or ``sendAt``), never from the
time an ``advance`` happened to process it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from mock_puresms.domain.events import (
    Event,
    MessagesCreated,
    ReplyReceived,
    StatusChanged,
    StatusesChanged,
)
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms, parse_iso

if TYPE_CHECKING:
    from inprocess import Mock

ORDINARY = "447700900100"

# (number, final status code, final status name) for the default scenario's magic numbers,
# each reaching its fate 3 s after acceptance (Enroute at 1 s).
MAGIC_FATES = [
    ("447700900000", 2, "Delivered"),
    ("447700900001", 5, "Undeliverable"),
    ("447700900002", 3, "Expired"),
    ("447700900003", 8, "Rejected"),
    ("447700900004", 7, "Unknown"),
    ("447700900006", 2, "Delivered"),
]


def ms(timestamp: str) -> int:
    return parse_iso(timestamp)


def history(message: dict[str, Any]) -> list[tuple[str, str]]:
    """A message's history as (status name, timestamp) pairs."""
    return [(entry["deliveryStatusName"], entry["at"]) for entry in message["history"]]


def lifecycle(t0: int, *steps: tuple[str, int]) -> list[tuple[str, str]]:
    """The expected history: each status with its offset in ms from ``t0``."""
    return [(name, format_ms(t0 + offset)) for name, offset in steps]


def one_by_one(events: list[Event]) -> list[Event]:
    """The events with each group change spelled out as one change per message."""
    return [
        change
        for event in events
        for change in (event.each() if isinstance(event, StatusesChanged) else (event,))
    ]


def now_ms(mock: Mock) -> int:
    return ms(mock.client.get("/_mock/clock").json()["now"])


def advance_to(mock: Mock, instant: int) -> None:
    """Advance the virtual clock to exactly ``instant`` (epoch ms)."""
    mock.advance((instant - now_ms(mock)) / 1000)


# --------------------------------------------------------------------------- default scenario


@pytest.mark.parametrize(("to", "code", "name"), MAGIC_FATES)
def test_magic_number_reaches_its_fate_three_seconds_after_acceptance(
    mock: Mock, to: str, code: int, name: str
) -> None:
    sent = mock.send(to=to)
    t0 = ms(sent["createdAt"])
    assert history(sent) == lifecycle(t0, ("Accepted", 0))

    mock.advance(60)

    message = mock.message(sent["reference"])
    assert (message["deliveryStatus"], message["deliveryStatusName"]) == (code, name)
    assert history(message) == lifecycle(t0, ("Accepted", 0), ("Enroute", 1000), (name, 3000))
    assert message["updatedAt"] == format_ms(t0 + 3000)


def test_magic_number_005_stays_enroute_for_ever(mock: Mock) -> None:
    sent = mock.send(to="447700900005")
    t0 = ms(sent["createdAt"])

    mock.advance(3 * 86400)

    message = mock.message(sent["reference"])
    assert message["deliveryStatusName"] == "Enroute"
    assert history(message) == lifecycle(t0, ("Accepted", 0), ("Enroute", 1000))


def test_ordinary_number_is_delivered_three_seconds_after_acceptance(mock: Mock) -> None:
    sent = mock.send(to=ORDINARY)
    t0 = ms(sent["createdAt"])

    mock.advance(10)

    message = mock.message(sent["reference"])
    assert message["deliveryStatus"] == 2
    assert history(message) == lifecycle(
        t0, ("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)
    )


def test_status_changes_exactly_at_its_due_time_not_a_millisecond_before(mock: Mock) -> None:
    sent = mock.send(to=ORDINARY)
    reference = sent["reference"]
    t0 = ms(sent["createdAt"])

    mock.advance(0.999)
    assert mock.message(reference)["deliveryStatusName"] == "Accepted"
    mock.advance(0.001)
    assert mock.message(reference)["deliveryStatusName"] == "Enroute"
    mock.advance(1.999)
    assert mock.message(reference)["deliveryStatusName"] == "Enroute"
    mock.advance(0.001)

    message = mock.message(reference)
    assert message["deliveryStatusName"] == "Delivered"
    assert history(message) == lifecycle(
        t0, ("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)
    )


def test_small_steps_give_the_same_history_as_one_big_step(
    make_mock: Callable[..., Mock],
) -> None:
    def relative_history(mock: Mock, steps: list[float]) -> list[list[tuple[str, int]]]:
        sent = [mock.send(to=to) for to, _, _ in MAGIC_FATES] + [mock.send(to=ORDINARY)]
        for seconds in steps:
            mock.advance(seconds)
        result = []
        for message in sent:
            t0 = ms(message["createdAt"])
            found = mock.message(message["reference"])
            result.append([(e["deliveryStatusName"], ms(e["at"]) - t0) for e in found["history"]])
        return result

    big = relative_history(make_mock(), [10])
    small = relative_history(make_mock(), [0.3, 0.7, 0.25, 0.75, 0.5, 0.001, 1.499, 6])

    assert small == big
    assert big[-1] == [("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)]


def test_advance_answers_the_clock_moved_by_exactly_the_seconds_asked(mock: Mock) -> None:
    before = now_ms(mock)

    response = mock.client.post("/_mock/clock/advance", json={"seconds": 1.234})

    assert response.status_code == 200
    assert response.json() == {
        "mode": "virtual",
        "now": format_ms(before + 1234),
        "timeScale": 1.0,
    }


# --------------------------------------------------------------------------- scheduled sends


def test_a_large_bulk_gives_every_magic_number_its_fate_among_ordinary_numbers(
    mock: Mock,
) -> None:
    # Large enough that the bulk is planned in one pass with only named numbers apart;
    # the opted-out number is Skipped and never moves.
    mock.v1("POST", "/v1/Contacts", json={"phoneNumber": "447700900150", "optedOut": True})
    magic = [number for number, _, _ in MAGIC_FATES] + ["447700900005"]
    ordinary = [f"4477009002{i:02d}" for i in range(40)]
    numbers = ordinary[:20] + magic + ["447700900150"] + ordinary[20:]
    response = mock.v1(
        "POST",
        "/v1/Sms/SendBulk",
        json={"from": "Acme", "content": "Hi", "messages": [{"to": n} for n in numbers]},
    )
    assert response.status_code == 200, response.text
    references = {item["reference"]: numbers[item["index"]] for item in response.json()["messages"]}
    t0 = now_ms(mock)

    mock.advance(10)

    expected = {number: name for number, _, name in MAGIC_FATES}
    expected["447700900005"] = "Enroute"
    expected["447700900150"] = "Skipped"
    for reference, number in references.items():
        message = mock.message(reference)
        fate = expected.get(number, "Delivered")
        if fate == "Skipped":
            assert history(message) == lifecycle(t0, ("Skipped", 0))
        elif fate == "Enroute":
            assert history(message) == lifecycle(t0, ("Accepted", 0), ("Enroute", 1000))
        else:
            assert history(message) == lifecycle(
                t0, ("Accepted", 0), ("Enroute", 1000), (fate, 3000)
            ), number
    replies = mock.v1("GET", "/v1/Replies").json()["items"]
    assert [(r["from"], r["content"]) for r in replies] == [("447700900006", "STOP")]


def test_scheduled_message_is_accepted_exactly_at_send_at(mock: Mock) -> None:
    send_at = now_ms(mock) + 60_000
    sent = mock.send(to=ORDINARY, sendAt=format_ms(send_at))
    reference = sent["reference"]
    assert sent["deliveryStatusName"] == "Scheduled"
    assert sent["sendAt"] == format_ms(send_at)

    mock.advance(59.999)
    assert mock.message(reference)["deliveryStatusName"] == "Scheduled"
    mock.advance(0.001)
    assert mock.message(reference)["deliveryStatusName"] == "Accepted"
    mock.advance(0.999)
    assert mock.message(reference)["deliveryStatusName"] == "Accepted"
    mock.advance(0.001)
    assert mock.message(reference)["deliveryStatusName"] == "Enroute"
    mock.advance(60)

    message = mock.message(reference)
    created = ms(sent["createdAt"])
    assert history(message) == [
        ("Scheduled", format_ms(created)),
        *lifecycle(send_at, ("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)),
    ]


def test_scheduled_message_advanced_past_in_one_step_keeps_due_times(mock: Mock) -> None:
    send_at = now_ms(mock) + 60_000
    sent = mock.send(to="447700900001", sendAt=format_ms(send_at))

    mock.advance(3600)

    message = mock.message(sent["reference"])
    assert history(message)[1:] == lifecycle(
        send_at, ("Accepted", 0), ("Enroute", 1000), ("Undeliverable", 3000)
    )


def test_cancelled_scheduled_message_is_deleted_and_never_accepted(mock: Mock) -> None:
    send_at = now_ms(mock) + 60_000
    sent = mock.send(to=ORDINARY, sendAt=format_ms(send_at))
    mock.advance(30)

    response = mock.v1("DELETE", f"/v1/Sms/{sent['reference']}")

    assert response.status_code == 200
    assert response.json()["deliveryStatusName"] == "Deleted"
    mock.advance(3600)
    message = mock.message(sent["reference"])
    assert message["deliveryStatus"] == 4
    assert history(message) == [
        ("Scheduled", sent["createdAt"]),
        ("Deleted", format_ms(ms(sent["createdAt"]) + 30_000)),
    ]


def test_cancelling_a_message_no_longer_scheduled_is_a_conflict(mock: Mock) -> None:
    send_at = now_ms(mock) + 10_000
    sent = mock.send(to=ORDINARY, sendAt=format_ms(send_at))
    mock.advance(10)

    response = mock.v1("DELETE", f"/v1/Sms/{sent['reference']}")

    assert response.status_code == 409
    assert mock.message(sent["reference"])["deliveryStatusName"] == "Accepted"


def test_cancelled_batch_is_deleted_and_never_accepted(mock: Mock) -> None:
    send_at = now_ms(mock) + 60_000
    response = mock.v1(
        "POST",
        "/v1/Sms/SendBulk",
        json={
            "from": "Acme",
            "content": "Later",
            "sendAt": format_ms(send_at),
            "messages": [{"to": ORDINARY}, {"to": "447700900001"}, {"to": "447700900101"}],
        },
    )
    assert response.status_code == 200, response.text
    bulk = response.json()

    cancelled = mock.v1("DELETE", f"/v1/Sms/Batch/{bulk['batchReference']}")

    assert cancelled.status_code == 200
    assert cancelled.json() == {"cancelledCount": 3}
    mock.advance(3600)
    for item in bulk["messages"]:
        message = mock.message(item["reference"])
        assert [name for name, _ in history(message)] == ["Scheduled", "Deleted"]


# --------------------------------------------------------------------------- repeatability


def _send_thousand(mock: Mock) -> list[str]:
    """1,000 sends to ordinary numbers in four SendBulk requests; their references in order."""
    references: list[str] = []
    for chunk in range(4):
        messages = [
            {"to": f"4479110{chunk * 250 + i:05d}", "clientReference": f"c{chunk}-{i}"}
            for i in range(250)
        ]
        response = mock.v1(
            "POST",
            "/v1/Sms/SendBulk",
            json={"from": "Acme", "content": "Your code is 1234", "messages": messages},
        )
        assert response.status_code == 200, response.text
        references += [item["reference"] for item in response.json()["messages"]]
    return references


def _outcomes(mock: Mock, references: list[str]) -> list[list[tuple[int, int]]]:
    """Each message's history as (status code, ms since creation), in sending order."""
    response = mock.client.get("/_mock/messages", params={"pageSize": 1000})
    assert response.status_code == 200
    by_reference = {m["reference"]: m for m in response.json()["items"]}
    outcomes = []
    for reference in references:
        message = by_reference[reference]
        t0 = ms(message["createdAt"])
        outcomes.append([(e["deliveryStatus"], ms(e["at"]) - t0) for e in message["history"]])
    return outcomes


def test_realistic_scenario_repeats_the_same_outcomes_on_a_fresh_server(
    make_mock: Callable[..., Mock],
) -> None:
    runs = []
    for _ in range(2):
        mock = make_mock(scenario="realistic")
        references = _send_thousand(mock)
        mock.advance(3 * 86400)
        runs.append(_outcomes(mock, references))

    first, second = runs
    assert len(first) == 1000
    assert first == second
    finals = [steps[-1][0] for steps in first]
    counts = {DeliveryStatus(code).label: finals.count(code) for code in set(finals)}
    # The weights really apply: a mix, mostly Delivered (62+20+8 = 90 of 100).
    assert len(counts) >= 4, counts
    assert 800 <= counts["Delivered"] <= 970, counts


def test_realistic_outcomes_follow_the_seed(
    make_mock: Callable[..., Mock],
) -> None:
    # The seed, not the message count, fixes the outcomes: a different scenario seed
    # (same weights) gives a different sequence.
    base = make_mock(scenario="realistic")
    source = base.client.get("/_mock/scenario").json()["source"]
    reseeded = make_mock(scenario="realistic")
    response = reseeded.client.put(
        "/_mock/scenario",
        content=source.replace("seed: 20261124", "seed: 1"),
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text

    results = []
    for mock in (base, reseeded):
        references = _send_thousand(mock)
        mock.advance(3 * 86400)
        results.append([steps[-1][0] for steps in _outcomes(mock, references)])

    assert results[0] != results[1]


# --------------------------------------------------------------------------- events seam


def test_events_publish_every_status_change_and_reply_in_order(mock: Mock) -> None:
    seen: list[Event] = []
    mock.core.subscribe(seen.append)

    first = mock.send(to="447700900006", clientReference="first")
    t0 = ms(first["createdAt"])
    mock.advance(8)
    skipped = mock.send(to="447700900006", clientReference="skipped")
    scheduled = mock.send(to=ORDINARY, sendAt=format_ms(t0 + 8000 + 60_000))
    mock.advance(1)
    cancelled = mock.v1("DELETE", f"/v1/Sms/{scheduled['reference']}")
    assert cancelled.status_code == 200

    changes = [
        (e.message.reference, e.status, e.at) if isinstance(e, StatusChanged) else e
        for e in one_by_one(seen)
        if not isinstance(e, MessagesCreated)
    ]
    reply = next(e.reply for e in seen if isinstance(e, ReplyReceived))
    assert changes == [
        (first["reference"], DeliveryStatus.ENROUTE, t0 + 1000),
        (first["reference"], DeliveryStatus.DELIVERED, t0 + 3000),
        ReplyReceived(reply),
        (skipped["reference"], DeliveryStatus.SKIPPED, t0 + 8000),
        (scheduled["reference"], DeliveryStatus.DELETED, t0 + 9000),
    ]
    assert (reply.content, reply.in_reply_to, reply.received_at) == (
        "STOP",
        first["reference"],
        t0 + 8000,
    )
    created = [[m.reference for m in e.messages] for e in seen if isinstance(e, MessagesCreated)]
    assert created == [[first["reference"]], [skipped["reference"]], [scheduled["reference"]]]


def test_events_carry_the_account_of_the_sender(mock: Mock) -> None:
    events: list[Event] = []
    mock.core.subscribe(events.append)
    account = mock.v1("GET", "/v1/Account").json()["id"]

    mock.send(to=ORDINARY)
    mock.advance(3)

    seen = [e for e in one_by_one(events) if isinstance(e, StatusChanged)]

    assert [e.status for e in seen] == [DeliveryStatus.ENROUTE, DeliveryStatus.DELIVERED]
    assert {e.message.account_id for e in seen} == {account}
