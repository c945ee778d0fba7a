"""Retries: a delivery is POSTed until a 200, ``firstRetry`` doubling up to
``maxInterval`` between attempts on the mock clock, until ``maxAge``; every attempt is
recorded on the delivery and published."""

from __future__ import annotations

import pytest
from dispatch_harness import ENROUTE, Harness, in_loop

from mock_puresms.domain.events import WebhookAttempted
from mock_puresms.settings import WebhookTuning
from mock_puresms.webhooks.retry import backoff_ms
from mock_puresms.webhooks.signing import signature

URL = "http://receiver.test/r"


@in_loop
async def test_a_failed_post_is_retried_with_doubling_backoff_until_accepted() -> None:
    mock = Harness({"firstRetry": "1s", "maxInterval": "10s", "timeout": "2s"})
    mock.sender.answer(URL, 500, "connection refused", 503)
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(60_000)

    (delivery,) = mock.deliveries()
    assert delivery.state == "delivered"
    assert delivery.next_attempt_at is None
    assert [(a.at - delivery.created_at, a.status, a.error) for a in delivery.attempts] == [
        (0, 500, None),
        (1000, None, "connection refused"),
        (3000, 503, None),
        (7000, 200, None),
    ]
    assert all(a.duration_ms >= 0 for a in delivery.attempts)
    posts = mock.sender.posts
    assert [post.at - delivery.created_at for post in posts] == [0, 1000, 3000, 7000]
    assert [post.headers["X-Mock-Attempt"] for post in posts] == ["1", "2", "3", "4"]
    assert {post.headers["X-Mock-Delivery-Id"] for post in posts} == {delivery.id}
    assert {post.timeout for post in posts} == {2.0}
    assert {post.raw for post in posts} == {delivery.body}
    assert mock.published == [WebhookAttempted(delivery.id, URL, n) for n in (1, 2, 3, 4)]


@in_loop
async def test_the_wait_between_attempts_stops_growing_at_max_interval() -> None:
    mock = Harness({"firstRetry": "1s", "maxInterval": "3s"})
    mock.sender.answer(URL, *[500] * 5)
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(60_000)

    (delivery,) = mock.deliveries()
    assert [a.at - delivery.created_at for a in delivery.attempts] == [
        0,
        1000,
        3000,
        6000,
        9000,
        12000,
    ]
    assert delivery.state == "delivered"


@in_loop
async def test_the_wait_before_a_retry_counts_from_when_the_failed_post_ended() -> None:
    """On a real clock a POST takes time: a 3 s timeout then ``firstRetry`` 1 s puts the
    retry 4 s after the first attempt began."""
    mock = Harness({"firstRetry": "1s"})
    mock.sender.slow[URL] = 3000
    mock.sender.answer(URL, "timeout after 3000 ms")
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(60_000)

    (delivery,) = mock.deliveries()
    assert [a.at - delivery.created_at for a in delivery.attempts] == [0, 4000]


@pytest.mark.parametrize(
    ("failed", "wait"), [(1, 1000), (2, 2000), (3, 4000), (4, 5000), (5, 5000), (500, 5000)]
)
def test_backoff_doubles_from_first_retry_up_to_max_interval(failed: int, wait: int) -> None:
    tuning = WebhookTuning.model_validate({"firstRetry": "1s", "maxInterval": "5s"})
    assert backoff_ms(tuning, failed) == wait


@in_loop
async def test_a_delivery_fails_once_its_next_attempt_would_come_after_max_age() -> None:
    """Attempts at 0, 1 s and 3 s after creation (3 s is not past ``maxAge``); the next
    would come at 7 s: the delivery has failed and is not tried again."""
    mock = Harness({"firstRetry": "1s", "maxAge": "3s"})
    mock.sender.answer(URL, *["timeout after 10000 ms"] * 10)
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(3_000)

    (delivery,) = mock.deliveries()
    assert [a.at - delivery.created_at for a in delivery.attempts] == [0, 1000]
    assert delivery.state == "pending"
    assert delivery.next_attempt_at == delivery.created_at + 3000

    await mock.advance(60_000)
    assert [a.at - delivery.created_at for a in delivery.attempts] == [0, 1000, 3000]
    assert delivery.state == "failed"
    assert delivery.next_attempt_at is None
    assert len(mock.sender.posts) == 3


@in_loop
async def test_each_attempt_is_signed_when_the_account_has_a_secret() -> None:
    mock = Harness()
    mock.add_account("signed", receipts=URL, secret="s3cret")
    mock.sender.answer(URL, 500)
    mock.change([mock.message(account="signed")], ENROUTE)
    mock.change([mock.message()], ENROUTE)  # the default account has no secret
    await mock.advance(5_000)

    signed = mock.sender.to(URL)
    assert len(signed) == 2
    for post in signed:
        timestamp = int(post.headers["X-Webhook-Timestamp"])
        assert post.headers["X-Webhook-Signature"] == signature("s3cret", timestamp, post.raw)
    (unsigned,) = [post for post in mock.sender.posts if post.url != URL]
    assert "X-Webhook-Signature" not in unsigned.headers
    assert unsigned.headers["Content-Type"] == "application/json"


@in_loop
async def test_a_durable_store_is_given_the_delivery_after_each_attempt() -> None:
    mock = Harness({"firstRetry": "1s"}, durable=True)
    mock.sender.answer(URL, 500)
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(5_000)

    (delivery,) = mock.deliveries()
    assert mock.snapshots == [
        [(delivery.id, 0, "pending")],  # made by the flush
        [(delivery.id, 1, "pending")],
        [(delivery.id, 2, "delivered")],
    ]


@in_loop
async def test_a_full_reset_stops_retries() -> None:
    mock = Harness({"firstRetry": "1s"})
    mock.sender.answer(URL, 500)
    mock.change([mock.message(url=URL)], ENROUTE)
    await mock.advance(500)
    mock.dispatcher.reset()
    await mock.advance(60_000)

    assert len(mock.sender.posts) == 1
    assert mock.deliveries() == []


@in_loop
async def test_resetting_an_account_stops_its_retries_only() -> None:
    mock = Harness({"firstRetry": "1s"})
    other_url = "http://receiver.test/other"
    mock.add_account("other", receipts=other_url)
    mock.sender.answer(URL, 500)
    mock.sender.answer(other_url, 500)
    mock.change([mock.message(url=URL), mock.message(account="other")], ENROUTE)
    await mock.advance(500)
    mock.dispatcher.reset("other")
    await mock.advance(60_000)

    assert [post.url for post in mock.sender.posts] == [URL, other_url, URL]
    assert [(d.url, d.state) for d in mock.deliveries()] == [(URL, "delivered")]


@in_loop
async def test_close_closes_the_sender() -> None:
    mock = Harness()
    await mock.dispatcher.close()
    assert mock.sender.closed
