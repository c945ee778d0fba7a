"""Ordering: a delivery carrying a receipt of a message waits until every earlier
delivery to its URL carrying one of the same message has finished; nothing else waits."""

from __future__ import annotations

import pytest
from dispatch_harness import DELIVERED, ENROUTE, START, Harness, in_loop

from mock_puresms.domain.deliveries import Delivery
from mock_puresms.webhooks.ordering import Ordering

URL = "http://receiver.test/r"
OTHER = "http://receiver.test/other"


@in_loop
async def test_a_later_receipt_waits_while_the_earlier_one_is_retried() -> None:
    """Enroute fails at 250 ms and is retried at 5250; Delivered (ready at 1250) goes
    only once that retry is accepted."""
    mock = Harness({"firstRetry": "5s"})
    mock.sender.answer(URL, 500)
    message = mock.message(url=URL)
    mock.change([message], ENROUTE)
    await mock.advance(1000)
    mock.change([message], DELIVERED)
    await mock.advance(4000)

    assert [(post.statuses, post.answered) for post in mock.sender.posts] == [([ENROUTE], 500)]
    waiting, retried = mock.deliveries()
    assert waiting.state == "pending"
    assert waiting.attempts == []

    await mock.advance(1000)
    assert [(post.statuses, post.answered) for post in mock.sender.posts] == [
        ([ENROUTE], 500),
        ([ENROUTE], 200),
        ([DELIVERED], 200),
    ]
    assert mock.offsets(mock.sender.posts) == [250, 5250, 5250]
    assert [a.at - retried.created_at for a in retried.attempts] == [0, 5000]
    # Recorded when it was made, not when it was first due (1250).
    assert [a.at - START for a in waiting.attempts] == [5250]
    assert {d.state for d in mock.deliveries()} == {"delivered"}


@in_loop
async def test_a_later_receipt_goes_on_once_the_earlier_delivery_has_failed() -> None:
    """Order is about what the receiver sees first, not about success: once the earlier
    delivery gives up (``maxAge``), the later one is sent."""
    mock = Harness({"firstRetry": "1s", "maxAge": "2s"})
    mock.sender.answer(URL, 500, 500)
    message = mock.message(url=URL)
    mock.change([message], ENROUTE)
    await mock.advance(500)
    mock.change([message], DELIVERED)
    await mock.advance(10_000)

    # Attempts at 250 and 1250; the next would come at 3250, past 2 s after creation.
    assert [(post.statuses, post.answered) for post in mock.sender.posts] == [
        ([ENROUTE], 500),
        ([ENROUTE], 500),
        ([DELIVERED], 200),
    ]
    assert mock.offsets(mock.sender.posts) == [250, 1250, 1250]
    assert [d.state for d in mock.deliveries()] == ["delivered", "failed"]


@in_loop
async def test_other_messages_and_other_urls_do_not_wait() -> None:
    """While Delivered of ``stuck`` waits for its Enroute's retry (due at 5250), other
    messages to its URL and to another URL go as soon as their window closes."""
    mock = Harness({"firstRetry": "5s"})
    mock.sender.answer(URL, 500)
    stuck, same_url = mock.message(url=URL), mock.message(url=URL)
    other_url = mock.message(url=OTHER)
    mock.change([stuck], ENROUTE)
    await mock.advance(500)
    mock.change([stuck], DELIVERED)
    await mock.advance(500)
    mock.change([same_url, other_url], ENROUTE)
    await mock.advance(1000)

    sent = {(post.url, tuple(post.references)): post.at - START for post in mock.sender.posts}
    assert sent == {
        (URL, (stuck.reference,)): 250,
        (URL, (same_url.reference,)): 1250,
        (OTHER, (other_url.reference,)): 1250,
    }


@in_loop
async def test_two_changes_in_one_window_in_separate_posts_keep_their_order() -> None:
    """Enroute and Delivered 100 ms apart fall in one window; with ``maxBatch: 1`` they
    are two POSTs, and Delivered still waits for Enroute's retry."""
    mock = Harness({"maxBatch": 1, "firstRetry": "2s"})
    mock.sender.answer(URL, "connection refused")
    message = mock.message(url=URL)
    mock.change([message], ENROUTE)
    await mock.advance(100)
    mock.change([message], DELIVERED)
    await mock.advance(10_000)

    assert [(post.statuses, post.answered) for post in mock.sender.posts] == [
        ([ENROUTE], "connection refused"),
        ([ENROUTE], 200),
        ([DELIVERED], 200),
    ]
    assert mock.offsets(mock.sender.posts) == [250, 2250, 2250]


@in_loop
async def test_a_post_with_two_receipts_of_one_message_does_not_wait_for_itself() -> None:
    mock = Harness()
    message = mock.message(url=URL)
    mock.change([message], ENROUTE)
    await mock.advance(100)
    mock.change([message], DELIVERED)
    await mock.advance(1000)

    (post,) = mock.sender.posts
    assert post.statuses == [ENROUTE, DELIVERED]
    assert [d.state for d in mock.deliveries()] == ["delivered"]


@in_loop
async def test_a_reply_waits_for_nothing() -> None:
    """Replies carry no receipt: they never wait for a receipt being retried."""
    from mock_puresms.domain.events import ReplyReceived
    from mock_puresms.domain.replies import Reply

    mock = Harness({"firstRetry": "5s"})
    mock.accounts["acc"].webhooks.reply_url = URL
    mock.sender.answer(URL, 500)
    message = mock.message(url=URL)
    mock.change([message], ENROUTE)
    await mock.advance(500)
    now = mock.clock.now()
    reply = Reply("R1", "acc", "447700900000", "Mock", "hi", now, in_reply_to=message.reference)
    mock.dispatcher(ReplyReceived(reply))
    await mock.advance(100)

    assert [(post.body, post.at - now) for post in mock.sender.posts[1:]] == [
        ({"reference": "R1", "content": "hi"}, 0)
    ]


def delivery(name: str, *references: str, url: str = URL) -> Delivery:
    return Delivery(name, "acc", url, "receipts", b"[]", 0, references=references)


@pytest.mark.parametrize("stale_limit", [100_000, -1_000_000], ids=["kept", "swept-every-time"])
def test_ordering_releases_waiting_deliveries_in_turn(stale_limit: int) -> None:
    """The chain first <- second <- third (message a), with an unrelated delivery in
    between; with the map swept of finished deliveries at every addition too."""
    ordering = Ordering(max_batch=10, stale_limit=stale_limit)
    first, unrelated = delivery("first", "a", "b"), delivery("unrelated", "c")
    ordering.add_all(URL, [first, unrelated], distinct=True)
    second, third = delivery("second", "a"), delivery("third", "a", "c")
    ordering.add(second)
    ordering.add(third)

    assert not ordering.holds(first)
    assert not ordering.holds(unrelated)
    assert ordering.holds(second)
    assert ordering.holds(third)
    assert ordering.unfinished(URL) == 4

    unrelated.state = "delivered"
    assert list(ordering.finished(unrelated)) == []  # third still waits for second
    first.state = "delivered"
    assert list(ordering.finished(first)) == [second]
    assert not second.waiting
    second.state = "failed"
    assert list(ordering.finished(second)) == [third]
    third.state = "delivered"
    assert list(ordering.finished(third)) == []
    assert ordering.unfinished(URL) == 0

    # The URL drained: nothing is remembered, a new delivery of ``a`` goes at once.
    fourth = delivery("fourth", "a")
    ordering.add(fourth)
    assert not ordering.holds(fourth)


def test_a_delivery_that_was_not_waiting_yet_is_not_released() -> None:
    """Released are only deliveries whose attempt came while they were blocked; one
    not yet due is simply no longer blocked when its attempt comes."""
    ordering = Ordering(max_batch=10)
    first, second = delivery("first", "a"), delivery("second", "a")
    ordering.add(first)
    ordering.add(second)
    first.state = "delivered"
    assert list(ordering.finished(first)) == []
    assert not ordering.holds(second)


def test_the_same_message_on_another_url_does_not_wait() -> None:
    ordering = Ordering(max_batch=10)
    ordering.add(delivery("first", "a"))
    later = delivery("later", "a", url=OTHER)
    ordering.add(later)
    assert not ordering.holds(later)
