"""Cancelling through the current API (API.md 9.3, 9.4, 9.6), through HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connect_helpers import FUTURE, GOOD, call, control_message, errors_of, send

if TYPE_CHECKING:
    from inprocess import Mock


def test_cancel_a_scheduled_message_is_an_empty_200_and_it_ends_cancelled(mock: Mock) -> None:
    message_id = send(mock, sendAtUtc=FUTURE)

    response = call(mock, "DELETE", f"/sms/send/{message_id}")

    assert response.status_code == 200 and response.content == b""
    shown = control_message(mock, message_id)
    assert (shown["deliveryStatus"], shown["deliveryStatusName"]) == (4, "Deleted")
    assert (shown["connectStatus"], shown["connectStatusName"]) == (5, "Cancelled")


def test_cancelling_what_is_not_scheduled_is_400(mock: Mock) -> None:
    scheduled = send(mock, sendAtUtc=FUTURE)
    now = send(mock)
    assert call(mock, "DELETE", f"/sms/send/{scheduled}").status_code == 200

    for message_id in (scheduled, now, "123456789012345678"):
        errors = errors_of(call(mock, "DELETE", f"/sms/send/{message_id}"))
        assert list(errors) == ["generalErrors"] and errors["generalErrors"][0]


def test_another_account_s_message_cannot_be_cancelled(mock: Mock) -> None:
    message_id = send(mock, key="alice", sendAtUtc=FUTURE)

    errors_of(call(mock, "DELETE", f"/sms/send/{message_id}", key="bob"))
    assert control_message(mock, message_id)["deliveryStatusName"] == "Scheduled"


def test_cancel_needs_the_key(mock: Mock) -> None:
    message_id = send(mock, sendAtUtc=FUTURE)

    assert call(mock, "DELETE", f"/sms/send/{message_id}", key=None).status_code == 401


def test_a_v1_delete_of_a_connect_message_is_a_cancel(mock: Mock) -> None:
    message_id = send(mock, sendAtUtc=FUTURE)

    assert mock.v1("DELETE", f"/v1/Sms/{message_id}").status_code == 200
    assert control_message(mock, message_id)["connectStatusName"] == "Cancelled"


def test_a_deletion_through_the_control_surface_is_deleted_not_cancelled(mock: Mock) -> None:
    message_id = send(mock, sendAtUtc=FUTURE)

    forced = mock.client.post(f"/_mock/messages/{message_id}/status", json={"deliveryStatus": 4})

    assert forced.status_code == 200, forced.text
    assert control_message(mock, message_id)["connectStatusName"] == "Deleted"


def test_cancel_a_batch(mock: Mock) -> None:
    bulk = call(mock, "POST", "/sms/send/bulk", json={"messages": [GOOD] * 3, "sendAtUtc": FUTURE})
    batch_id = bulk.json()["batchId"]

    first = call(mock, "DELETE", f"/sms/send/bulk/{batch_id}")
    again = call(mock, "DELETE", f"/SMS/Send/Bulk/{batch_id}/")

    assert first.status_code == 200
    assert first.json() == {"cancelledCount": 3, "reason": None, "errors": []}
    assert again.status_code == 200
    assert again.json()["cancelledCount"] == 0 and again.json()["reason"]
    assert again.json()["errors"] == []


def test_cancel_an_unknown_or_another_account_s_batch_is_400(mock: Mock) -> None:
    bulk = call(
        mock, "POST", "/sms/send/bulk", key="alice", json={"messages": [GOOD], "sendAtUtc": FUTURE}
    )

    errors_of(call(mock, "DELETE", "/sms/send/bulk/123456789012345678"))
    errors_of(call(mock, "DELETE", f"/sms/send/bulk/{bulk.json()['batchId']}", key="bob"))


def test_status_view_of_the_magic_numbers(mock: Mock) -> None:
    # The default scenario: ...000 Delivered, ...001 Undeliverable, written without '+'
    # in the scenario; a Connect recipient has it.
    delivered = send(mock, recipient="+447700900000")
    failed = send(mock, recipient="+447700900001")
    mock.advance(60)

    assert control_message(mock, delivered)["connectStatusName"] == "Delivered"
    assert control_message(mock, delivered)["connectStatus"] == 7
    shown = control_message(mock, failed)
    assert (shown["deliveryStatusName"], shown["connectStatusName"], shown["errorCode"]) == (
        "Undeliverable",
        "Failed",
        "Undeliverable",
    )


def test_a_scenario_rule_written_without_plus_matches_a_connect_recipient(mock: Mock) -> None:
    scenario = """
name: plus
rules:
  - name: reject
    match: {to: "447700900777"}
    lifecycle: [{status: Rejected, after: 1s}]
"""
    used = mock.client.put(
        "/_mock/scenario", content=scenario, headers={"Content-Type": "application/yaml"}
    )
    assert used.status_code == 200, used.text

    message_id = send(mock, recipient="+447700900777")
    mock.advance(5)

    shown = control_message(mock, message_id)
    assert (shown["connectStatusName"], shown["errorCode"]) == ("Rejected", "Rejected")


def test_the_plugin_client_lists_and_finds_connect_messages(mock: Mock) -> None:
    from mock_puresms.control.models import Message

    message_id = send(mock, clientTag="t")
    items = mock.client.get("/_mock/messages", params={"to": "+447700900123"}).json()["items"]

    [listed] = [Message.from_json(item) for item in items]
    assert (listed.reference, listed.api, listed.client_tag) == (message_id, "connect", "t")
    assert listed.connect_status == "Queued"
