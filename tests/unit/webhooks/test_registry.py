"""The registry of deliveries: what ``GET /_mock/webhooks`` lists (newest first, filtered),
retention pruning finished deliveries, and carrying on after a restart."""

from __future__ import annotations

from dispatch_harness import DELIVERED, ENROUTE, START, Harness, in_loop

from mock_puresms.domain.deliveries import Attempt, Delivery, DeliveryState

A = "http://receiver.test/a"
B = "http://receiver.test/b"


async def three_deliveries(mock: Harness) -> tuple[Delivery, Delivery, Delivery]:
    """first (acc, A, delivered, made at 250), dead (other, B, pending, at 250),
    last (acc, A, delivered, at 1250)."""
    mock.add_account("other", receipts=B)
    mock.sender.answer(B, *[500] * 100)
    mock.change([mock.message(url=A), mock.message(account="other")], ENROUTE)
    await mock.advance(1000)
    mock.change([mock.message(url=A)], ENROUTE)
    await mock.advance(1000)
    last, dead, first = mock.deliveries()
    return first, dead, last


@in_loop
async def test_deliveries_are_listed_newest_first_and_filtered() -> None:
    mock = Harness()
    first, dead, last = await three_deliveries(mock)

    assert [(d.url, d.account_id, d.created_at - START) for d in (first, dead, last)] == [
        (A, "acc", 250),
        (B, "other", 250),
        (A, "acc", 1250),
    ]
    assert mock.deliveries(url=A) == [last, first]
    assert mock.deliveries(state="pending") == [dead]
    assert mock.deliveries(state="delivered") == [last, first]
    assert mock.deliveries(account_id="other") == [dead]
    assert mock.deliveries(url=A, state="pending") == []
    assert mock.deliveries(url="http://receiver.test/none") == []


@in_loop
async def test_prune_forgets_finished_deliveries_created_before_the_cutoff_only() -> None:
    mock = Harness()
    first, dead, last = await three_deliveries(mock)

    assert mock.dispatcher.prune(START + 1250) == [first.id]
    assert mock.deliveries() == [last, dead]  # dead is older, but still being retried
    assert mock.dispatcher.prune(START + 1250) == []
    assert mock.dispatcher.prune(START + 1251) == [last.id]
    assert mock.deliveries() == [dead]


@in_loop
async def test_resetting_an_account_forgets_its_deliveries_only() -> None:
    mock = Harness()
    first, _dead, last = await three_deliveries(mock)

    mock.dispatcher.reset("other")
    assert mock.deliveries() == [last, first]
    mock.dispatcher.reset()
    assert mock.deliveries() == []


def restored(
    name: str,
    reference: str,
    status: int,
    *,
    state: DeliveryState = "pending",
    at: int | None = None,
) -> Delivery:
    """A delivery as a store gives it back after a restart."""
    body = f'[{{"reference":"{reference}","deliveryStatus":{status}}}]'.encode()
    delivery = Delivery(name, "acc", A, "receipts", body, START - 60_000, references=(reference,))
    delivery.state = state
    delivery.next_attempt_at = at
    return delivery


@in_loop
async def test_resume_lists_everything_and_carries_on_in_order() -> None:
    """After a restart: a finished delivery is listed but not sent; unfinished ones are
    tried when they were due, a later receipt of a message still after the earlier one;
    receipts still owed are flushed at once."""
    mock = Harness(durable=True)
    done = restored("done", "M-a", 1, state="delivered")
    earlier = restored("earlier", "M-a", 1, at=START + 1000)
    earlier.attempts.append(Attempt(START - 59_000, 500, None, 1.0))
    later = restored("later", "M-a", 2)  # due at once, but behind ``earlier``
    owed = mock.message(url=A)
    owed.change_status(ENROUTE, START - 100)
    owed.change_status(DELIVERED, START - 50)

    mock.dispatcher.resume([(owed, 2)], [done, earlier, later])
    assert mock.deliveries() == [later, earlier, done]
    await mock.advance(0)

    (flushed,) = mock.sender.posts
    assert (flushed.at, flushed.references, flushed.statuses) == (START, [owed.reference], [2])
    assert mock.saved[0][1] == [(owed.reference, 2)]
    (new,) = mock.deliveries()[:1]
    assert mock.deliveries() == [new, later, earlier, done]

    await mock.advance(1000)
    assert [(post.at - START, post.references) for post in mock.sender.posts[1:]] == [
        (1000, ["M-a"]),
        (1000, ["M-a"]),
    ]
    assert [post.headers["X-Mock-Delivery-Id"] for post in mock.sender.posts[1:]] == [
        "earlier",
        "later",
    ]
    assert mock.sender.posts[1].headers["X-Mock-Attempt"] == "2"
    assert {d.state for d in mock.deliveries()} == {"delivered"}
    assert done.attempts == []


@in_loop
async def test_resume_without_owed_receipts_schedules_no_flush() -> None:
    mock = Harness()
    mock.dispatcher.resume([], [restored("done", "M-a", 1, state="failed")])
    await mock.advance(10_000)
    assert mock.sender.posts == []
    assert mock.saved == []
    assert [d.id for d in mock.deliveries()] == ["done"]
