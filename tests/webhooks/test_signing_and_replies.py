"""Signed webhooks and reply webhooks. API.md section 4.

A signature is checked here with the standard library alone, as a receiver would:
base64(HMAC-SHA256(secret, "{X-Webhook-Timestamp}.{raw body}")).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from webhook_helpers import attempt_offsets, deliveries, iso_ms, set_webhooks

from mock_puresms.testing.webhook_sink import SinkRequest, WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock

SECRET = "whsec-test-1"
REPLY_FIELDS = {
    "reference",
    "inReplyTo",
    "clientReference",
    "batchReference",
    "from",
    "to",
    "content",
    "receivedAt",
}


def signature_is_valid(request: SinkRequest, secret: str) -> bool:
    timestamp = request.headers["x-webhook-timestamp"]
    digest = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).digest()
    expected = base64.b64encode(digest).decode()
    return hmac.compare_digest(expected, request.headers["x-webhook-signature"])


# --- Signing ----------------------------------------------------------------------------


def test_every_post_is_signed_when_the_account_has_a_secret(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"), secret=SECRET)
    mock.send()
    mock.send(to="447700900101")
    mock.advance(4)

    posts = receiver.posts()
    assert len(posts) == 2
    for post in posts:
        assert signature_is_valid(post, SECRET)
        assert not signature_is_valid(post, SECRET + "x")
        assert abs(int(post.headers["x-webhook-timestamp"]) - time.time()) <= 5


def test_signature_timestamp_is_wall_time_after_the_clock_jumped_hours(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"), secret=SECRET)
    mock.advance(6 * 3600)
    mock.send()
    mock.advance(4)

    posts = receiver.posts()
    assert len(posts) == 2
    for post in posts:
        assert abs(int(post.headers["x-webhook-timestamp"]) - time.time()) <= 5
        assert signature_is_valid(post, SECRET)


def test_signature_is_computed_afresh_for_every_attempt(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"), secret=SECRET)
    mock.send()
    # The first answer takes over a second, so the retry is signed in a later second.
    receiver.respond_with(500, delay=1.05)
    mock.advance(2.5)

    first, retry = receiver.posts()
    assert first.body == retry.body
    assert first.headers["x-mock-delivery-id"] == retry.headers["x-mock-delivery-id"]
    assert int(retry.headers["x-webhook-timestamp"]) > int(first.headers["x-webhook-timestamp"])
    assert first.headers["x-webhook-signature"] != retry.headers["x-webhook-signature"]
    assert signature_is_valid(first, SECRET)
    assert signature_is_valid(retry, SECRET)


def test_no_secret_means_no_signature_headers(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"), replies=receiver.url_for("/replies"))
    mock.send()
    mock.advance(4)
    response = mock.client.post(
        "/_mock/replies", json={"from": "447700900100", "to": "Acme", "content": "Hi"}
    )
    assert response.status_code == 200, response.text
    mock.advance(0)

    assert [post.path for post in receiver.posts()] == ["/r", "/r", "/replies"]
    for post in receiver.posts():
        assert "x-webhook-signature" not in post.headers
        assert "x-webhook-timestamp" not in post.headers


def test_secret_from_config_file_signs_receipts(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured(
        "accounts:\n"
        "  - name: acme\n"
        "    apiKeys: [acme-key]\n"
        f"    webhooks: {{deliveryReceiptUrl: '{receiver.url_for('/r')}', secret: s3cret}}\n"
    )
    mock.send(key="acme-key")
    mock.advance(4)

    assert len(receiver.posts()) == 2
    assert all(signature_is_valid(post, "s3cret") for post in receiver.posts())


# --- Replies ----------------------------------------------------------------------------


def test_scripted_reply_is_posted_as_one_json_object_to_the_reply_url(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, replies=receiver.url_for("/replies"))
    sent = mock.send(to="447700900006", clientReference="CLI-9")
    mock.advance(7.9)
    assert receiver.posts() == []
    mock.advance(0.1)  # Delivered at 3 s, STOP 5 s later

    (post,) = receiver.posts()
    assert post.path == "/replies"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["x-mock-attempt"] == "1"
    assert post.headers["x-mock-delivery-id"]
    reply = post.json
    assert isinstance(reply, dict)
    assert set(reply) == REPLY_FIELDS
    assert reply["reference"]
    assert reply == {
        "reference": reply["reference"],
        "inReplyTo": sent["reference"],
        "clientReference": "CLI-9",
        "batchReference": sent["batchReference"],
        "from": "447700900006",
        "to": "Acme",
        "content": "STOP",
        "receivedAt": reply["receivedAt"],
    }
    assert iso_ms(reply["receivedAt"]) - iso_ms(sent["createdAt"]) == 8000
    (delivery,) = deliveries(mock)
    assert delivery["kind"] == "reply"
    assert delivery["body"] == reply


def test_injected_replies_are_posted_one_per_request(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, replies=receiver.url_for("/replies"))
    sent = mock.send()
    for content in ("YES", "Also this"):
        response = mock.client.post(
            "/_mock/replies", json={"from": "447700900100", "to": "Acme", "content": content}
        )
        assert response.status_code == 200, response.text
    mock.advance(0)

    posts = receiver.posts()  # POSTed concurrently: in either order
    assert sorted(post.json["content"] for post in posts) == ["Also this", "YES"]
    for post in posts:
        assert isinstance(post.json, dict)
        assert set(post.json) == REPLY_FIELDS
        assert post.json["inReplyTo"] == sent["reference"]
    assert len({post.headers["x-mock-delivery-id"] for post in posts}) == 2


def test_reply_is_retried_and_signed_like_receipts(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, replies=receiver.url_for("/replies"), secret=SECRET)
    mock.send()
    receiver.respond_with(500, times=2)
    response = mock.client.post(
        "/_mock/replies", json={"from": "447700900100", "to": "Acme", "content": "YES"}
    )
    assert response.status_code == 200, response.text
    received_at = response.json()["receivedAt"]
    mock.advance(10)

    posts = receiver.posts()
    assert [post.status for post in posts] == [500, 500, 200]
    assert [post.headers["x-mock-attempt"] for post in posts] == ["1", "2", "3"]
    assert len({post.headers["x-mock-delivery-id"] for post in posts}) == 1
    assert all(post.headers["content-type"] == "application/json" for post in posts)
    assert all(signature_is_valid(post, SECRET) for post in posts)
    (delivery,) = deliveries(mock)
    assert delivery["state"] == "delivered"
    assert attempt_offsets(delivery, received_at) == [0, 1, 3]


def test_without_a_reply_url_replies_are_not_posted(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    mock.send(to="447700900006")
    mock.advance(10)

    assert [post.path for post in receiver.posts()] == ["/r", "/r"]
    assert {d["kind"] for d in deliveries(mock)} == {"receipts"}
    assert mock.v1("GET", "/v1/Replies").json()["totalCount"] == 1
