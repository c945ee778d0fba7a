"""Order and isolation: a later receipt of a message is never received before an earlier
one, whatever the receiver does; a dead URL does not hold up a healthy one.
API.md section 4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from webhook_helpers import attempt_offsets, closed_port_url, deliveries, set_webhooks, use_scenario

from mock_puresms.testing.webhook_sink import WebhookSink
from mock_puresms.webhooks import dispatcher

if TYPE_CHECKING:
    from inprocess import Mock

ENROUTE, DELIVERED = 1, 2


def first_received_statuses(receiver: WebhookSink) -> dict[str, list[int]]:
    """Per reference, the statuses in the order the receiver first accepted each (200)."""
    seen: dict[str, list[int]] = {}
    for receipt in receiver.raw_receipts(ok_only=True):
        statuses = seen.setdefault(receipt["reference"], [])
        if receipt["deliveryStatus"] not in statuses:
            statuses.append(receipt["deliveryStatus"])
    return seen


def delivery_with(items: list[dict[str, Any]], status: int) -> dict[str, Any]:
    (found,) = [d for d in items if d["body"][0]["deliveryStatus"] == status]
    return found


def test_later_receipt_waits_while_an_earlier_one_is_retried(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    """Enroute fails at 1.25 s and is retried at 6.25 s; Delivered (ready at 3.25 s)
    must not reach the receiver before that retry succeeds."""
    mock = configured("webhooks: {firstRetry: 5s}\n")
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    created = mock.send()["createdAt"]
    receiver.respond_with(500)
    mock.advance(4)

    assert [(post.json[0]["deliveryStatus"], post.status) for post in receiver.posts()] == [
        (ENROUTE, 500)
    ]
    waiting = delivery_with(deliveries(mock), DELIVERED)
    assert waiting["state"] == "pending"
    assert waiting["attempts"] == []

    mock.advance(10)
    assert [(post.json[0]["deliveryStatus"], post.status) for post in receiver.posts()] == [
        (ENROUTE, 500),
        (ENROUTE, 200),
        (DELIVERED, 200),
    ]
    items = deliveries(mock)
    assert attempt_offsets(delivery_with(items, ENROUTE), created) == [1.25, 6.25]
    assert attempt_offsets(delivery_with(items, DELIVERED), created) == [6.25]


def test_per_message_order_holds_while_the_receiver_flaps(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    """Small batches, a receiver failing every other POST, first retries slower than
    the lifecycle: every message's statuses still arrive Enroute first, none is lost."""
    mock = configured("webhooks: {maxBatch: 2, firstRetry: 4s}\n")
    set_webhooks(mock, receipts=receiver.url_for("/flappy"))
    receiver.respond_in_turn(*[500, 200] * 60)
    references = [mock.send(to=f"4477009002{i:02d}")["reference"] for i in range(8)]
    mock.advance(0.5)
    references += [mock.send(to=f"4477009003{i:02d}")["reference"] for i in range(8)]
    mock.advance(120)

    assert any(not post.ok for post in receiver.posts())
    received = first_received_statuses(receiver)
    assert received == {reference: [ENROUTE, DELIVERED] for reference in references}
    assert {d["state"] for d in deliveries(mock)} == {"delivered"}


def test_order_holds_when_finished_deliveries_are_swept_from_the_ordering_map(
    configured: Callable[..., Mock], receiver: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ordering map keeps finished deliveries until its URL drains, and sweeps them
    out when it grows; with a sweep at every new delivery, the runs above still deliver
    every message's statuses in order."""
    monkeypatch.setattr(dispatcher, "_STALE_LIMIT", -1_000_000)  # sweep at every POST
    test_later_receipt_waits_while_an_earlier_one_is_retried(configured, receiver)
    receiver.clear()
    test_per_message_order_holds_while_the_receiver_flaps(configured, receiver)


def test_dead_url_does_not_delay_a_healthy_one(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured(
        "accounts:\n"
        "  - name: healthy\n"
        "    apiKeys: [healthy-key]\n"
        f"    webhooks: {{deliveryReceiptUrl: '{receiver.url_for('/healthy')}'}}\n"
        "  - name: dead\n"
        "    apiKeys: [dead-key]\n"
        f"    webhooks: {{deliveryReceiptUrl: '{closed_port_url()}'}}\n"
    )
    dead = [mock.send(key="dead-key", to=f"4477009004{i:02d}")["reference"] for i in range(3)]
    healthy = mock.send(key="healthy-key", to="447700900500")
    mock.advance(1.5)
    assert [r["deliveryStatus"] for r in receiver.raw_receipts()] == [ENROUTE]
    mock.advance(2)
    assert [r["deliveryStatus"] for r in receiver.raw_receipts()] == [ENROUTE, DELIVERED]
    mock.advance(60)

    on_time = deliveries(mock, url=receiver.url_for("/healthy"))
    assert sorted(attempt_offsets(d, healthy["createdAt"]) for d in on_time) == [[1.25], [3.25]]
    assert {d["state"] for d in on_time} == {"delivered"}
    failing = [d for d in deliveries(mock) if d["account"] != on_time[0]["account"]]
    assert {r["reference"] for d in failing for r in d["body"]} == set(dead)
    assert {d["state"] for d in failing} == {"pending"}
    assert all(a["error"] for d in failing for a in d["attempts"])
    assert len(receiver.posts()) == 2


def test_two_changes_in_one_window_go_in_order_even_in_separate_posts(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    """Enroute and Delivered 100 ms apart fall in one batch window; with ``maxBatch: 1``
    they are two POSTs, and Delivered still waits for Enroute's retry."""
    mock = configured("webhooks: {maxBatch: 1}\n")
    use_scenario(
        mock,
        "name: quick\n"
        "default: {lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 100ms}]}\n",
    )
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    mock.send()
    receiver.respond_with(500)
    mock.advance(1.25)
    assert [(p.json[0]["deliveryStatus"], p.status) for p in receiver.posts()] == [(ENROUTE, 500)]
    mock.advance(5)

    assert [(p.json[0]["deliveryStatus"], p.status) for p in receiver.posts()] == [
        (ENROUTE, 500),
        (ENROUTE, 200),
        (DELIVERED, 200),
    ]


def test_receipts_of_one_message_in_one_post_are_in_lifecycle_order(
    mock: Mock, receiver: WebhookSink
) -> None:
    use_scenario(
        mock,
        "name: quick\n"
        "default: {lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 100ms}]}\n",
    )
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    reference = mock.send()["reference"]
    mock.advance(2)

    (post,) = receiver.posts()
    assert [(r["reference"], r["deliveryStatus"]) for r in post.json] == [
        (reference, ENROUTE),
        (reference, DELIVERED),
    ]


def send_bulk(mock: Mock, messages: list[dict[str, str]]) -> None:
    response = mock.v1(
        "POST", "/v1/Sms/SendBulk", json={"from": "Acme", "content": "Hi", "messages": messages}
    )
    assert response.status_code == 200, response.text


def test_at_most_two_posts_at_once_go_to_one_url(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/slow"))
    receiver.respond_with(200, times=6, delay=0.3)
    send_bulk(mock, [{"to": f"4477{i:08d}"} for i in range(600)])
    mock.advance(1.5)  # EnRoute: six POSTs of 100 receipts, each answered after 0.3 s

    assert len(receiver.posts()) == 6
    assert receiver.peak_concurrency("/slow") == 2


def test_at_most_32_posts_at_once_go_out_in_all(mock: Mock, receiver: WebhookSink) -> None:
    # Twenty URLs with two POSTs each: forty could go at once, thirty-two may.
    paths = [f"/u{i}" for i in range(20)]
    receiver.respond_with(200, times=40, delay=0.5)
    send_bulk(
        mock,
        [
            {"to": f"4477{i:08d}", "deliveryReceiptUrl": receiver.url_for(paths[i % 20])}
            for i in range(20 * 101)
        ],
    )
    mock.advance(1.5)

    assert len(receiver.posts()) == 40
    assert receiver.peak_concurrency() == 32
    assert max(receiver.peak_concurrency(path) for path in paths) == 2
