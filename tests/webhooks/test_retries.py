"""Retries: only ``200`` counts; backoff doubles from ``firstRetry`` up to ``maxInterval``;
after ``maxAge`` the delivery is ``failed`` and stays listed. API.md sections 4 and 8.

Most tests use a one-step scenario (Delivered after 1 s) so each message makes exactly
one receipt: its delivery is created, and first attempted, 1.25 s after the send.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import attempt_offsets, closed_port_url, deliveries, set_webhooks, use_scenario

from mock_puresms.testing.webhook_sink import WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock

ONE_STEP = "name: one-step\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n"
FIRST = 1.25  # the receipt falls due at 1 s; the batch window adds 250 ms


def one_receipt_mock(mock: Mock, url: str) -> str:
    """Point the account at ``url``, send one message; return its ``createdAt``."""
    use_scenario(mock, ONE_STEP)
    set_webhooks(mock, receipts=url)
    created: str = mock.send()["createdAt"]
    return created


def test_receipt_is_retried_until_200_with_same_body_and_delivery_id(
    mock: Mock, receiver: WebhookSink
) -> None:
    created = one_receipt_mock(mock, receiver.url_for("/r"))
    receiver.respond_with(500, times=2)
    mock.advance(FIRST)
    assert len(receiver.posts()) == 1
    mock.advance(0.999)
    assert len(receiver.posts()) == 1  # the first retry waits a full second
    mock.advance(0.001)
    assert len(receiver.posts()) == 2
    mock.advance(2)
    mock.advance(60)

    posts = receiver.posts()
    assert [post.status for post in posts] == [500, 500, 200]
    assert len({post.body for post in posts}) == 1
    assert len({post.headers["x-mock-delivery-id"] for post in posts}) == 1
    assert [post.headers["x-mock-attempt"] for post in posts] == ["1", "2", "3"]
    (delivery,) = deliveries(mock)
    assert delivery["id"] == posts[0].headers["x-mock-delivery-id"]
    assert delivery["state"] == "delivered"
    assert delivery["nextAttemptAt"] is None
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
    assert attempt_offsets(delivery, created) == [FIRST, FIRST + 1, FIRST + 3]


def test_pending_delivery_shows_when_it_will_be_tried_next(
    mock: Mock, receiver: WebhookSink
) -> None:
    created = one_receipt_mock(mock, receiver.url_for("/r"))
    receiver.respond_with(503)
    mock.advance(FIRST)

    (delivery,) = deliveries(mock)
    assert delivery["state"] == "pending"
    assert attempt_offsets({"attempts": [{"at": delivery["nextAttemptAt"]}]}, created) == [
        FIRST + 1
    ]


def test_any_status_but_200_is_retried_even_201(mock: Mock, receiver: WebhookSink) -> None:
    one_receipt_mock(mock, receiver.url_for("/r"))
    receiver.respond_in_turn(201, 204, 302, 404)
    mock.advance(30)

    assert [post.status for post in receiver.posts()] == [201, 204, 302, 404, 200]
    (delivery,) = deliveries(mock)
    assert delivery["state"] == "delivered"


def test_attempt_that_times_out_is_recorded_and_retried(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured("webhooks: {timeout: 300ms}\n")
    created = one_receipt_mock(mock, receiver.url_for("/slow"))
    receiver.respond_with(200, delay=1.0)  # answers, but only after the 300 ms timeout
    mock.advance(FIRST)

    (delivery,) = deliveries(mock)
    (attempt,) = delivery["attempts"]
    assert attempt["status"] is None
    assert "timeout" in attempt["error"]
    assert 250 <= attempt["durationMs"] < 1000
    assert delivery["state"] == "pending"

    mock.advance(1)
    (delivery,) = deliveries(mock)
    assert [a["status"] for a in delivery["attempts"]] == [None, 200]
    assert attempt_offsets(delivery, created) == [FIRST, FIRST + 1]
    assert delivery["state"] == "delivered"


def test_refused_connection_is_recorded_with_an_error_and_retried(mock: Mock) -> None:
    created = one_receipt_mock(mock, closed_port_url())
    mock.advance(FIRST + 3)

    (delivery,) = deliveries(mock)
    assert delivery["state"] == "pending"
    assert attempt_offsets(delivery, created) == [FIRST, FIRST + 1, FIRST + 3]
    for attempt in delivery["attempts"]:
        assert attempt["status"] is None
        assert attempt["error"]


def test_delivery_fails_after_max_age_and_stays_visible_with_its_attempts(
    configured: Callable[..., Mock],
) -> None:
    mock = configured("webhooks: {maxAge: 10s}\n")
    created = one_receipt_mock(mock, closed_port_url())
    mock.advance(60)
    mock.advance(3600)

    (delivery,) = deliveries(mock, state="failed")
    assert delivery["nextAttemptAt"] is None
    # Retries 1, 2 and 4 s apart; the next (8 s later) would be past the 10 s maxAge.
    assert attempt_offsets(delivery, created) == [FIRST, FIRST + 1, FIRST + 3, FIRST + 7]
    assert all(a["error"] for a in delivery["attempts"])
    assert deliveries(mock, state="pending") == []


def test_backoff_doubles_from_first_retry_and_is_capped_at_max_interval(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured("webhooks: {firstRetry: 500ms, maxInterval: 3s, maxAge: 1h}\n")
    created = one_receipt_mock(mock, receiver.url_for("/r"))
    receiver.respond_with(500, times=7)
    mock.advance(60)

    (delivery,) = deliveries(mock)
    offsets = attempt_offsets(delivery, created)
    gaps = [round(b - a, 3) for a, b in pairwise(offsets)]
    assert gaps == [0.5, 1, 2, 3, 3, 3, 3]
    assert delivery["state"] == "delivered"
    assert len(receiver.posts()) == 8


@pytest.mark.parametrize("url", ["http://exämple..com/hook", "http://a\u200d.test/hook"])
def test_url_the_client_cannot_use_is_refused_when_given(mock: Mock, url: str) -> None:
    """Hosts the HTTP client rejects (bad IDNA) were once accepted and retried for 24 h
    (issue 16, defect 10): the URL rule now refuses them where they are given."""
    body = {"deliveryReceiptUrl": url}
    response = mock.v1("PUT", "/v1/Account/Webhooks", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "deliveryReceiptUrl": ["'deliveryReceiptUrl' must have a valid host name (or be null)."]
    }
