"""Delivery receipts: what a receipt holds, where it goes, and how receipts are batched.

API.md section 4. Every test drives the virtual clock; ``advance`` returns once the
POSTs due by then were attempted, so the receiver already holds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from webhook_helpers import deliveries, set_webhooks

from mock_puresms.testing.webhook_sink import WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock

RECEIPT_FIELDS = {
    "reference",
    "clientReference",
    "batchReference",
    "deliveryStatus",
    "additionalMessage",
}
ENROUTE, DELIVERED, ACCEPTED, DELETED, SKIPPED = 1, 2, 6, 4, 9


def bulk(mock: Mock, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    kwargs = {"key": key} if key is not None else {}
    response = mock.v1("POST", "/v1/Sms/SendBulk", json=body, **kwargs)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def numbers(count: int, start: int = 0) -> list[dict[str, str]]:
    return [{"to": f"4477{start + i:08d}"} for i in range(count)]


def statuses_by_reference(receipts: list[dict[str, Any]]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for receipt in receipts:
        seen.setdefault(receipt["reference"], []).append(receipt["deliveryStatus"])
    return seen


# --- What a receipt is -----------------------------------------------------------------


def test_each_status_change_after_creation_is_one_receipt_with_exactly_five_fields(
    mock: Mock, receiver: WebhookSink
) -> None:
    sent = mock.send(
        clientReference="CLI-1", batchReference="B-1", deliveryReceiptUrl=receiver.url_for("/r")
    )
    mock.advance(10)

    receipts = receiver.raw_receipts()
    assert receipts == [
        {
            "reference": sent["reference"],
            "clientReference": "CLI-1",
            "batchReference": "B-1",
            "deliveryStatus": status,
            "additionalMessage": None,
        }
        for status in (ENROUTE, DELIVERED)
    ]
    assert all(set(receipt) == RECEIPT_FIELDS for receipt in receipts)


def test_receipt_post_is_a_json_array_sent_as_application_json(
    mock: Mock, receiver: WebhookSink
) -> None:
    mock.send(deliveryReceiptUrl=receiver.url_for("/receipts"))
    mock.advance(4)

    posts = receiver.posts()
    assert len(posts) == 2
    for post in posts:
        assert post.path == "/receipts"
        assert post.headers["content-type"] == "application/json"
        assert post.body.lstrip().startswith(b"[")
        assert isinstance(post.json, list)
        assert len(post.json) == 1


def test_receipts_mirror_every_history_change_of_every_outcome(
    mock: Mock, receiver: WebhookSink
) -> None:
    """Magic numbers (section 7), a forced status, a scheduled send and a cancel."""
    set_webhooks(mock, receipts=receiver.url_for("/all"))
    magic = [mock.send(to=f"44770090000{digit}")["reference"] for digit in range(6)]
    forced = mock.send()["reference"]
    now = mock.client.get("/_mock/clock").json()["now"]
    start = datetime.fromisoformat(now.replace("Z", "+00:00"))
    later = (start + timedelta(seconds=30)).isoformat(timespec="milliseconds")
    later = later.replace("+00:00", "Z")
    scheduled = mock.send(sendAt=later)["reference"]
    cancelled = mock.send(sendAt=later)["reference"]
    mock.advance(0.5)
    response = mock.client.post(f"/_mock/messages/{forced}/status", json={"deliveryStatus": 5})
    assert response.status_code == 200, response.text
    assert mock.v1("DELETE", f"/v1/Sms/{cancelled}").status_code == 200
    mock.advance(60)

    received = statuses_by_reference(receiver.raw_receipts())
    for reference in [*magic, forced, scheduled, cancelled]:
        history = [entry["deliveryStatus"] for entry in mock.message(reference)["history"]]
        assert received.get(reference, []) == history[1:], reference
    assert received[scheduled] == [ACCEPTED, ENROUTE, DELIVERED]
    assert received[cancelled] == [DELETED]
    assert received[forced] == [5]
    assert len(received) == 9


# --- Where it goes ---------------------------------------------------------------------


def test_message_url_wins_over_the_account_default(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/account"))
    own = mock.send(deliveryReceiptUrl=receiver.url_for("/own"))["reference"]
    plain = mock.send()["reference"]
    mock.advance(4)

    assert {r["reference"] for r in receiver.raw_receipts("/own")} == {own}
    assert {r["reference"] for r in receiver.raw_receipts("/account")} == {plain}


def test_bulk_batch_url_is_used_for_messages_without_their_own(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/account"))
    result = bulk(
        mock,
        {
            "from": "Acme",
            "content": "Hi",
            "deliveryReceiptUrl": receiver.url_for("/batch"),
            "messages": [
                {"to": "447700900100"},
                {"to": "447700900101", "deliveryReceiptUrl": receiver.url_for("/own")},
                {"to": "447700900102", "deliveryReceiptUrl": None},
            ],
        },
    )
    first, own, fallback = (m["reference"] for m in result["messages"])
    mock.advance(4)

    assert Counter(r["reference"] for r in receiver.raw_receipts("/batch")) == {
        first: 2,
        fallback: 2,
    }
    assert Counter(r["reference"] for r in receiver.raw_receipts("/own")) == {own: 2}
    assert receiver.raw_receipts("/account") == []


def test_account_default_url_set_by_put_receives_receipts(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/default"))
    reference = mock.send()["reference"]
    mock.advance(4)

    assert [(r["reference"], r["deliveryStatus"]) for r in receiver.raw_receipts("/default")] == [
        (reference, ENROUTE),
        (reference, DELIVERED),
    ]


def test_account_default_url_from_config_file_receives_receipts(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured(
        "accounts:\n"
        "  - name: acme\n"
        "    apiKeys: [acme-key]\n"
        f"    webhooks: {{deliveryReceiptUrl: '{receiver.url_for('/acme')}'}}\n"
        "  - name: globex\n"
        "    apiKeys: [globex-key]\n"
    )
    acme = mock.send(key="acme-key")["reference"]
    mock.send(key="globex-key")  # no URL anywhere: no POST
    mock.advance(4)

    assert [r.path for r in receiver.posts()] == ["/acme", "/acme"]
    assert {r["reference"] for r in receiver.raw_receipts()} == {acme}


def test_without_any_url_nothing_is_posted_but_changes_are_recorded(
    mock: Mock, receiver: WebhookSink
) -> None:
    reference = mock.send()["reference"]
    mock.advance(10)

    assert receiver.requests == []
    assert deliveries(mock) == []
    history = [entry["deliveryStatus"] for entry in mock.message(reference)["history"]]
    assert history == [ACCEPTED, ENROUTE, DELIVERED]


def test_skipped_message_to_an_opted_out_number_produces_one_receipt(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    mock.send(to="447700900006")
    mock.advance(8)  # Enroute 1 s, Delivered 3 s, the phone texts STOP 5 s later
    receiver.clear()

    skipped = mock.send(to="447700900006")
    assert skipped["deliveryStatus"] == SKIPPED
    mock.advance(30)

    assert receiver.raw_receipts() == [
        {
            "reference": skipped["reference"],
            "clientReference": None,
            "batchReference": skipped["batchReference"],
            "deliveryStatus": SKIPPED,
            "additionalMessage": None,
        }
    ]


# --- Batching ---------------------------------------------------------------------------


def test_receipts_ready_together_share_one_post(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    references = {mock.send(to=f"4477009001{i:02d}")["reference"] for i in range(3)}
    mock.advance(1.5)

    (post,) = receiver.posts()
    assert {r["reference"] for r in post.json} == references
    assert {r["deliveryStatus"] for r in post.json} == {ENROUTE}


def test_batch_window_groups_receipts_within_it_and_not_beyond(
    mock: Mock, receiver: WebhookSink
) -> None:
    """Window 250 ms from the first ready receipt: +100 ms joins it, +500 ms does not."""
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    first = mock.send()["reference"]
    mock.advance(0.1)
    second = mock.send()["reference"]
    mock.advance(0.4)
    third = mock.send()["reference"]
    mock.advance(1.5)  # Enroute receipts fall due at 1.0, 1.1 and 1.5 s; Delivered at 3.0

    assert [{r["reference"] for r in post.json} for post in receiver.posts()] == [
        {first, second},
        {third},
    ]


def test_bulk_of_250_is_three_posts_of_100_100_50_per_status_change(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    bulk(mock, {"from": "Acme", "content": "Hi", "messages": numbers(250)})
    mock.advance(1.5)
    enroute = receiver.posts()
    mock.advance(2)
    delivered = receiver.posts()[len(enroute) :]

    for posts, status in ((enroute, ENROUTE), (delivered, DELIVERED)):
        assert sorted(len(post.json) for post in posts) == [50, 100, 100]
        assert {r["deliveryStatus"] for post in posts for r in post.json} == {status}
        assert len({r["reference"] for post in posts for r in post.json}) == 250


def test_max_batch_from_config_limits_receipts_per_post(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured("webhooks: {maxBatch: 10}\n")
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    bulk(mock, {"from": "Acme", "content": "Hi", "messages": numbers(25)})
    mock.advance(1.5)

    assert sorted(len(post.json) for post in receiver.posts()) == [5, 10, 10]


def test_receipts_for_different_urls_are_never_mixed_in_one_post(
    mock: Mock, receiver: WebhookSink
) -> None:
    messages = [
        {**number, "deliveryReceiptUrl": receiver.url_for("/a" if i % 2 else "/b")}
        for i, number in enumerate(numbers(60))
    ]
    result = bulk(mock, {"from": "Acme", "content": "Hi", "messages": messages})
    expected = {
        path: {m["reference"] for m in result["messages"] if (m["index"] % 2) == (path == "/a")}
        for path in ("/a", "/b")
    }
    mock.advance(4)

    assert len(receiver.posts()) == 4  # one per URL per status change
    for post in receiver.posts():
        assert {r["reference"] for r in post.json} == expected[post.path]


def test_bulk_of_15000_is_about_150_posts_per_status_change(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    bulk(mock, {"from": "Acme", "content": "Hi", "messages": numbers(15_000)})
    mock.advance(1.5)

    posts = receiver.posts()
    assert len(posts) == 150
    assert all(len(post.json) == 100 for post in posts)
    assert len({r["reference"] for r in receiver.raw_receipts()}) == 15_000


@pytest.mark.parametrize(
    "client_references",
    [["a", "b", None, "a"], ["same"] * 4, [None, None, None, "last"]],
    ids=["mixed", "all-equal", "one-set"],
)
def test_each_receipt_of_a_bulk_carries_its_own_client_reference(
    mock: Mock, receiver: WebhookSink, client_references: list[str | None]
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    messages = [
        {**number, "clientReference": reference} if reference is not None else number
        for number, reference in zip(numbers(4), client_references, strict=True)
    ]
    result = bulk(mock, {"from": "Acme", "content": "Hi", "messages": messages})
    expected = {m["reference"]: client_references[m["index"]] for m in result["messages"]}
    mock.advance(1.5)

    receipts = receiver.raw_receipts()
    assert len(receipts) == 4
    assert {r["reference"]: r["clientReference"] for r in receipts} == expected
    assert {r["batchReference"] for r in receipts} == {result["batchReference"]}
