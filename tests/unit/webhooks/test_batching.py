"""Batching: the receipts of one batch window go out grouped by URL, in POSTs of at most
``maxBatch``, in the order they fell ready; each URL is decided per message."""

from __future__ import annotations

from dispatch_harness import DEFAULT_URL, DELIVERED, ENROUTE, Harness, in_loop

A = "http://receiver.test/a"
B = "http://receiver.test/b"


@in_loop
async def test_receipts_of_one_window_are_grouped_per_url_at_the_end_of_the_window() -> None:
    mock = Harness({"batchWindow": "250ms"})
    a1, b1, a2 = mock.message(url=A), mock.message(url=B), mock.message(url=A)
    mock.change([a1], ENROUTE)
    await mock.advance(100)
    mock.change([b1], ENROUTE)
    mock.change([a2], ENROUTE)
    await mock.advance(149)
    assert mock.sender.posts == []  # the window is still open

    await mock.advance(1)
    assert {post.url: post.references for post in mock.sender.posts} == {
        A: [a1.reference, a2.reference],
        B: [b1.reference],
    }
    assert mock.offsets(mock.sender.posts) == [250, 250]
    assert all(post.statuses == [ENROUTE] * len(post.body) for post in mock.sender.posts)


@in_loop
async def test_a_receipt_after_the_window_closed_opens_the_next_one() -> None:
    mock = Harness({"batchWindow": "250ms"})
    first, second = mock.message(url=A), mock.message(url=A)
    mock.change([first], ENROUTE)
    await mock.advance(300)
    mock.change([second], ENROUTE)
    await mock.advance(1000)

    assert [post.references for post in mock.sender.posts] == [
        [first.reference],
        [second.reference],
    ]
    assert mock.offsets(mock.sender.posts) == [250, 550]


@in_loop
async def test_a_url_gets_posts_of_at_most_max_batch_receipts_in_order() -> None:
    """Seven receipts of one event then two of another, ``maxBatch: 3``: the third POST
    holds the end of the first run and the start of the second."""
    mock = Harness({"maxBatch": 3})
    bulk = [mock.message(url=A, batch_reference="B1") for _ in range(7)]
    more = [mock.message(url=A, client_reference=f"c{i}") for i in range(2)]
    mock.change(bulk, ENROUTE, shared=True)
    mock.change(more, DELIVERED)
    await mock.advance(250)

    posts = mock.sender.posts
    assert [len(post.body) for post in posts] == [3, 3, 3]
    assert [r for post in posts for r in post.references] == [m.reference for m in bulk + more]
    assert posts[2].statuses == [ENROUTE, DELIVERED, DELIVERED]
    assert [(r["batchReference"], r["clientReference"]) for r in posts[2].body] == [
        ("B1", None),
        (None, "c0"),
        (None, "c1"),
    ]
    # One delivery per POST, each listing the references it carries.
    assert [d.references for d in reversed(mock.deliveries())] == [
        tuple(post.references) for post in posts
    ]


@in_loop
async def test_max_batch_of_one_sends_each_receipt_alone() -> None:
    mock = Harness({"maxBatch": 1})
    messages = [mock.message(url=A) for _ in range(3)]
    mock.change(messages, ENROUTE)
    await mock.advance(250)

    assert [post.references for post in mock.sender.posts] == [[m.reference] for m in messages]


@in_loop
async def test_one_event_is_split_by_each_messages_url_and_default() -> None:
    """Messages of one event with different URLs; one with none goes to its account's
    default; one whose account has no default is dropped (no delivery)."""
    mock = Harness()
    mock.add_account("silent")
    own, default, dropped = mock.message(url=B), mock.message(), mock.message(account="silent")
    mock.change([own, default, dropped], ENROUTE)
    await mock.advance(250)

    assert {post.url: post.references for post in mock.sender.posts} == {
        B: [own.reference],
        DEFAULT_URL: [default.reference],
    }
    assert {d.url for d in mock.deliveries()} == {B, DEFAULT_URL}


@in_loop
async def test_a_durable_store_is_told_which_receipts_each_flush_consumed() -> None:
    """The deliveries and the (reference, history index) of the receipts they carry
    are saved together, before any POST."""
    mock = Harness(durable=True)
    one, two = mock.message(url=A), mock.message(url=A)
    mock.change([one, two], ENROUTE)
    await mock.advance(100)
    mock.change([one], DELIVERED)
    await mock.advance(150)

    flush = mock.saved[0]
    assert [d.references for d in flush[0]] == [(one.reference, two.reference, one.reference)]
    assert flush[1] == [(one.reference, 1), (two.reference, 1), (one.reference, 2)]


@in_loop
async def test_the_memory_store_is_told_no_positions() -> None:
    mock = Harness(durable=False)
    mock.change([mock.message(url=A)], ENROUTE)
    await mock.advance(250)

    ((created, flushed),) = mock.saved
    assert len(created) == 1
    assert flushed == []


@in_loop
async def test_resetting_an_account_drops_its_owed_receipts_only() -> None:
    mock = Harness()
    mock.add_account("other", receipts=B)
    kept, gone = mock.message(url=A), mock.message(account="other")
    mock.change([kept, gone], ENROUTE)
    mock.dispatcher.reset("other")
    await mock.advance(250)

    assert [(post.url, post.references) for post in mock.sender.posts] == [(A, [kept.reference])]


@in_loop
async def test_a_full_reset_drops_the_open_window() -> None:
    mock = Harness()
    mock.change([mock.message(url=A)], ENROUTE)
    mock.dispatcher.reset()
    await mock.advance(1000)
    assert mock.sender.posts == []
    assert mock.deliveries() == []

    # The next receipt opens a new window.
    later = mock.message(url=A)
    mock.change([later], ENROUTE)
    await mock.advance(250)
    assert [post.references for post in mock.sender.posts] == [[later.reference]]
    assert mock.offsets(mock.sender.posts) == [1250]
