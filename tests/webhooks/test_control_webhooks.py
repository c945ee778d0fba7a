"""``GET /_mock/webhooks`` and ``POST /_mock/reset`` as they concern webhook deliveries,
and one end-to-end run on a real server. API.md section 6.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from test_signing_and_replies import signature_is_valid
from webhook_helpers import closed_port_url, deliveries, set_webhooks

from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.testing.webhook_sink import WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock

DELIVERY_FIELDS = {
    "id",
    "chaos",
    "endpoint",
    "url",
    "kind",
    "account",
    "body",
    "state",
    "createdAt",
    "nextAttemptAt",
    "attempts",
}
ATTEMPT_FIELDS = {"at", "status", "error", "durationMs", "requestHeaders", "chaos"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def inject_reply(mock: Mock, content: str, phone: str = "447700900100") -> None:
    response = mock.client.post(
        "/_mock/replies", json={"from": phone, "to": "Acme", "content": content}
    )
    assert response.status_code == 200, response.text


def account_id(mock: Mock, key: str | None = None) -> str:
    kwargs = {"key": key} if key is not None else {}
    ident: str = mock.v1("GET", "/v1/Account", **kwargs).json()["id"]
    return ident


def test_listing_has_the_documented_shape_for_receipts_and_replies(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"), replies=receiver.url_for("/replies"))
    sent = mock.send()
    mock.advance(1.5)
    inject_reply(mock, "YES")
    mock.advance(0)

    response = mock.client.get("/_mock/webhooks")
    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"items", "page", "pageSize", "totalCount"}
    assert (page["page"], page["pageSize"], page["totalCount"]) == (1, 100, 2)
    reply, receipts = page["items"]  # newest first
    for delivery in (reply, receipts):
        assert set(delivery) == DELIVERY_FIELDS
        assert delivery["account"] == account_id(mock)
        assert delivery["state"] == "delivered"
        assert ISO.match(delivery["createdAt"])
        assert delivery["nextAttemptAt"] is None
        (attempt,) = delivery["attempts"]
        assert set(attempt) == ATTEMPT_FIELDS
        assert ISO.match(attempt["at"])
        assert attempt["status"] == 200
        assert attempt["error"] is None
        assert isinstance(attempt["durationMs"], int | float)
        assert attempt["durationMs"] >= 0
    assert receipts["kind"] == "receipts"
    assert receipts["url"] == receiver.url_for("/r")
    assert receipts["body"] == receiver.posts("/r")[0].json
    assert receipts["body"][0]["reference"] == sent["reference"]
    assert receipts["id"] == receiver.posts("/r")[0].headers["x-mock-delivery-id"]
    assert reply["kind"] == "reply"
    assert reply["url"] == receiver.url_for("/replies")
    assert reply["body"] == receiver.posts("/replies")[0].json


def test_each_attempt_lists_the_headers_sent_with_it(
    configured: Callable[..., Mock], receiver: WebhookSink
) -> None:
    mock = configured("webhooks: {firstRetry: 1s}\n")
    set_webhooks(mock, receipts=receiver.url_for("/signed"), secret="sh-secret")
    receiver.respond_with(500, times=1)
    mock.send()
    mock.advance(1.5)  # Enroute's receipts: the first POST, answered 500
    mock.advance(2)  # its retry: 200
    posts = receiver.posts("/signed")
    delivery_id = posts[0].headers["x-mock-delivery-id"]
    (delivery,) = [d for d in deliveries(mock) if d["id"] == delivery_id]
    sent = [p for p in posts if p.headers["x-mock-delivery-id"] == delivery_id]
    assert [a["status"] for a in delivery["attempts"]] == [500, 200] == [p.status for p in sent]
    for number, (attempt, post) in enumerate(zip(delivery["attempts"], sent, strict=True), 1):
        headers = attempt["requestHeaders"]
        assert headers["X-Mock-Delivery-Id"] == delivery_id
        assert headers["X-Mock-Attempt"] == str(number)
        assert headers["Content-Type"] == "application/json"
        # Exactly what the receiver got, the signature of that attempt included.
        for name in ("X-Webhook-Timestamp", "X-Webhook-Signature", "User-Agent"):
            assert headers[name] == post.headers[name.lower()], name
        assert signature_is_valid(post, "sh-secret")

    # Unsigned without a secret: no signature headers are listed.
    set_webhooks(mock, receipts=receiver.url_for("/plain"))
    mock.send(to="447700900101")
    mock.advance(1.5)
    (plain, *_) = deliveries(mock, url=receiver.url_for("/plain"))
    (attempt,) = plain["attempts"]
    assert set(attempt["requestHeaders"]) == {
        "Content-Type",
        "User-Agent",
        "X-Mock-Delivery-Id",
        "X-Mock-Attempt",
    }


def test_listing_filters_by_url(mock: Mock, receiver: WebhookSink) -> None:
    mock.send(deliveryReceiptUrl=receiver.url_for("/a"))
    mock.send(deliveryReceiptUrl=receiver.url_for("/b"), to="447700900101")
    mock.advance(4)

    only_a = deliveries(mock, url=receiver.url_for("/a"))
    assert len(only_a) == 2
    assert {d["url"] for d in only_a} == {receiver.url_for("/a")}
    assert len(deliveries(mock)) == 4
    assert deliveries(mock, url=receiver.url_for("/nowhere")) == []


def test_listing_filters_by_state(configured: Callable[..., Mock], receiver: WebhookSink) -> None:
    mock = configured("webhooks: {maxAge: 5s}\n")
    mock.send(deliveryReceiptUrl=receiver.url_for("/ok"))
    mock.send(deliveryReceiptUrl=closed_port_url(), to="447700900101")
    mock.advance(4.5)  # the dead URL's Enroute receipt has failed, its Delivered is pending

    states = {d["state"]: d["url"] for d in deliveries(mock)}
    assert len(states) == 3
    for state in ("pending", "delivered", "failed"):
        items = deliveries(mock, state=state)
        assert items
        assert {d["state"] for d in items} == {state}
    assert {d["url"] for d in deliveries(mock, state="delivered")} == {receiver.url_for("/ok")}
    response = mock.client.get("/_mock/webhooks", params={"state": "lost"})
    assert response.status_code == 400
    assert "state" in response.json()["errors"]


def test_listing_pages_newest_first(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, replies=receiver.url_for("/replies"))
    mock.send()
    for n in range(5):
        inject_reply(mock, f"reply {n}")
        mock.advance(1)

    everything = deliveries(mock)
    assert [d["body"]["content"] for d in everything] == [f"reply {n}" for n in range(4, -1, -1)]
    response = mock.client.get("/_mock/webhooks", params={"page": "2", "pageSize": "2"})
    page = response.json()
    assert (page["page"], page["pageSize"], page["totalCount"]) == (2, 2, 5)
    assert [d["id"] for d in page["items"]] == [d["id"] for d in everything[2:4]]
    last = mock.client.get("/_mock/webhooks", params={"page": "3", "pageSize": "2"}).json()
    assert [d["id"] for d in last["items"]] == [everything[4]["id"]]
    for size in ("0", "1001"):
        response = mock.client.get("/_mock/webhooks", params={"pageSize": size})
        assert response.status_code == 400


def test_reset_forgets_deliveries_and_stops_their_retries(
    mock: Mock, receiver: WebhookSink
) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    mock.send()
    receiver.respond_with(500, times=1000)
    mock.advance(2.5)
    assert deliveries(mock)
    posted = len(receiver.posts())
    assert posted == 2

    assert mock.client.post("/_mock/reset").status_code == 200
    assert deliveries(mock) == []
    mock.advance(3600)
    assert len(receiver.posts()) == posted

    receiver.clear()  # answers 200 again
    set_webhooks(mock, receipts=receiver.url_for("/r"))
    mock.send()
    mock.advance(4)
    assert [r["deliveryStatus"] for r in receiver.raw_receipts()] == [1, 2]


def test_reset_of_one_account_stops_only_its_retries(mock: Mock, receiver: WebhookSink) -> None:
    set_webhooks(mock, receipts=receiver.url_for("/gone"), key="key-gone")
    set_webhooks(mock, receipts=receiver.url_for("/kept"), key="key-kept")
    mock.send(key="key-gone")
    mock.send(key="key-kept")
    receiver.respond_with(500, times=2)  # both Enroute POSTs at 1.25 s fail
    mock.advance(1.5)
    response = mock.client.post("/_mock/reset", params={"account": account_id(mock, "key-gone")})
    assert response.status_code == 200, response.text
    mock.advance(60)

    assert len(receiver.posts("/gone")) == 1
    assert [(p.json[0]["deliveryStatus"], p.status) for p in receiver.posts("/kept")] == [
        (1, 500),
        (1, 200),
        (2, 200),
    ]
    assert {d["url"] for d in deliveries(mock)} == {receiver.url_for("/kept")}


def test_end_to_end_advance_answers_after_due_posts_were_attempted(
    live_server: Callable[..., ServerThread], receiver: WebhookSink
) -> None:
    server = live_server(clock="virtual")
    headers = {"X-API-Key": "e2e-key"}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:

        def advance(seconds: float) -> Any:
            response = client.post("/_mock/clock/advance", json={"seconds": seconds})
            assert response.status_code == 200, response.text
            return response

        body = {"deliveryReceiptUrl": receiver.url_for("/e2e"), "replyUrl": None}
        assert client.put("/v1/Account/Webhooks", json=body, headers=headers).status_code == 200
        message = {"to": "447700900100", "from": "Acme", "content": "Hello"}
        sent = client.post("/v1/Sms/Send", json=message, headers=headers).json()
        advance(1.2)
        assert receiver.posts() == []

        # The receiver takes 400 ms to answer; advance still waits for it.
        receiver.respond_with(200, delay=0.4)
        started = time.monotonic()
        advance(0.1)
        assert time.monotonic() - started >= 0.4
        assert [r["deliveryStatus"] for r in receiver.raw_receipts()] == [1]
        advance(2)
        assert receiver.raw_receipts() == [
            {
                "reference": sent["reference"],
                "clientReference": None,
                "batchReference": sent["batchReference"],
                "deliveryStatus": status,
                "additionalMessage": None,
            }
            for status in (1, 2)
        ]
        listed = client.get("/_mock/webhooks").json()
        assert [d["state"] for d in listed["items"]] == ["delivered", "delivered"]
        assert [d["attempts"][0]["status"] for d in listed["items"]] == [200, 200]
