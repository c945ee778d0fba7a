"""Connect webhooks (API.md 9.5-9.6): endpoints per account, one event per POST in the
observed or documented format, signing, any 2xx, retries with a stable event id,
``disableAfter`` and re-enabling, replay (v1 deliveries too), kinds in GET /_mock/webhooks.

The mock runs in process on the virtual clock; the receiver is a real HTTP server on
loopback and the tests read the raw bytes it received. Connect messages are sent through
the façade until the current API's HTTP surface lands.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson
from webhook_helpers import closed_port_url, deliveries, set_webhooks, use_scenario

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.encoding import measure
from mock_puresms.domain.messages import CONNECT, Message
from mock_puresms.domain.sending import Outbound, OutboundSms
from mock_puresms.testing.webhook_sink import WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock

KEY = "test-key"
LIFECYCLE = (
    "name: connect\n"
    "default:\n"
    "  lifecycle:\n"
    "    - {status: Enroute, after: 1s}\n"
    "    - {status: Delivered, after: 1s}\n"
)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def account_id(mock: Mock, key: str = KEY) -> str:
    account: Account | None = mock.client.portal.call(mock.core.account_for_api_key, key)  # type: ignore[union-attr]
    assert account is not None
    return account.id


def connect_send(
    mock: Mock,
    content: str = "Hello",
    *,
    to: str = "447700900100",
    client_reference: str | None = "CLI-1",
    key: str = KEY,
    send_at: int | None = None,
) -> Message:
    """A message sent through the current API (through the façade)."""
    core = mock.core
    account = mock.client.portal.call(core.account_for_api_key, key)  # type: ignore[union-attr]
    assert account is not None
    info = measure(content)
    sms = OutboundSms(to, "Acme", content, info.encoding, info.segments, client_reference)

    async def send() -> list[Message]:
        outbound = Outbound.of([sms])
        return await core.send(account, outbound, is_test=False, api=CONNECT, send_at=send_at)

    (message,) = mock.client.portal.call(send)  # type: ignore[union-attr]
    return message


def put_endpoints(mock: Mock, endpoints: list[dict[str, Any]], key: str = KEY) -> dict[str, Any]:
    response = mock.client.put(f"/_mock/accounts/{account_id(mock, key)}/endpoints", json=endpoints)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def endpoint_listing(mock: Mock) -> list[dict[str, Any]]:
    response = mock.client.get(f"/_mock/accounts/{account_id(mock)}/endpoints")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_observed_receipts_carry_the_message_id_as_an_exact_number(
    mock: Mock, receiver: WebhookSink
) -> None:
    use_scenario(mock, LIFECYCLE)
    put_endpoints(mock, [{"url": receiver.url_for("/hooks")}])
    message = connect_send(mock)
    mock.advance(1)
    mock.advance(1)
    posts = receiver.posts()
    assert len(posts) == 2  # Queued -> Dispatched -> Delivered: one event per POST
    first, second = posts
    # The raw bytes: the 18-19 digits as a JSON number, never a float or a string.
    assert re.search(rb'"MessageId":' + message.reference.encode() + rb",", first.body)
    assert len(message.reference) in (18, 19) and int(message.reference) > 2**53
    event = orjson.loads(second.body)  # orjson reads big ints exactly
    assert set(event) == {"id", "timestamp", "workspace_id", "event_type", "data"}
    assert uuid.UUID(event["id"]).version == 4
    assert event["workspace_id"] == account_id(mock)
    assert event["event_type"] == 1
    data = event["data"]
    assert data["MessageId"] == int(message.reference)
    assert data == {
        "MessageId": int(message.reference),
        "ClientReference": "CLI-1",
        "DeliveryStatus": 7,
        "DeliveryStatusStr": "Delivered",
        "ErrorCode": None,
        "ProcessedAt": event["timestamp"],
        "DeliveredAt": event["timestamp"],
        "SmsParts": 1,
        "CostEur": None,
        "CostGbp": None,
    }
    dispatched = orjson.loads(first.body)["data"]
    assert (dispatched["DeliveryStatus"], dispatched["DeliveryStatusStr"]) == (1, "Dispatched")
    assert dispatched["DeliveredAt"] is None
    assert first.headers["content-type"] == "application/json"
    assert "x-webhook-signature" not in first.headers  # no secret, no signature
    # The event's time is the status change on the mock clock.
    assert ISO.fullmatch(event["timestamp"])
    assert [d["kind"] for d in deliveries(mock)] == ["connect.receipt"] * 2


def test_documented_format_and_signature(mock: Mock, receiver: WebhookSink) -> None:
    use_scenario(mock, LIFECYCLE)
    put_endpoints(
        mock,
        [{"url": receiver.url_for("/d"), "events": [1], "secret": "whsec", "format": "documented"}],
    )
    message = connect_send(mock, client_reference=None)
    mock.advance(2)
    post = receiver.posts()[-1]
    event = orjson.loads(post.body)
    assert re.fullmatch(r"evt_[0-9a-f]{32}", event["id"])
    assert set(event) == {"id", "timestamp", "workspaceId", "eventType", "data"}
    assert event["eventType"] == 1
    assert event["data"] == {
        "messageId": message.reference,  # a string of digits in this format
        "clientReference": None,
        "deliveryStatus": "Delivered",
        "errorCode": None,
        "processedAt": event["timestamp"],
        "deliveredAt": event["timestamp"],
        "smsParts": 1,
        "costEur": None,
        "costGbp": None,
    }
    stamp = post.headers["x-webhook-timestamp"]
    assert abs(int(stamp) - time.time()) < 60  # wall time, not the mock clock
    assert post.headers["x-webhook-signature"] == signature("whsec", stamp, post.body)


def test_scheduled_to_accepted_sends_nothing_and_skipped_sends_one_failed_event(
    mock: Mock, receiver: WebhookSink
) -> None:
    use_scenario(mock, LIFECYCLE)
    put_endpoints(mock, [{"url": receiver.url_for("/h"), "events": [1, 2]}])
    later = mock.core.now() + 10_000
    connect_send(mock, send_at=later)
    mock.advance(10)  # Scheduled -> Accepted: both Queued
    assert receiver.posts() == []
    mock.advance(1)
    assert [orjson.loads(p.body)["data"]["DeliveryStatusStr"] for p in receiver.posts()] == [
        "Dispatched"
    ]
    mock.advance(1)  # Delivered
    receiver.clear()
    # STOP opts the phone out: a later send is created Skipped, one Failed event.
    response = mock.client.post(
        "/_mock/replies",
        json={"from": "447700900200", "to": "Acme", "content": "STOP", "account": account_id(mock)},
    )
    assert response.status_code == 200, response.text
    connect_send(mock, to="447700900200")
    mock.advance(5)
    # The STOP's inbound event and the Skipped one: two events in flight, either order.
    events = {orjson.loads(p.body)["event_type"]: orjson.loads(p.body) for p in receiver.posts()}
    assert len(receiver.posts()) == 2 and set(events) == {1, 2}
    skipped = events[1]["data"]
    assert (skipped["DeliveryStatus"], skipped["DeliveryStatusStr"], skipped["ErrorCode"]) == (
        2,
        "Failed",
        "OptedOut",
    )


def test_v1_messages_send_v1_receipts_and_no_connect_events(
    mock: Mock, receiver: WebhookSink
) -> None:
    use_scenario(mock, LIFECYCLE)
    put_endpoints(mock, [{"url": receiver.url_for("/connect"), "events": [1]}])
    set_webhooks(mock, receipts=receiver.url_for("/v1"))
    mock.send()
    mock.advance(3)
    assert receiver.posts("/connect") == []
    assert len(receiver.posts("/v1")) == 2
    assert {d["kind"] for d in deliveries(mock)} == {"receipts"}


def test_inbound_events_in_both_formats_with_their_own_ids(
    mock: Mock, receiver: WebhookSink
) -> None:
    put_endpoints(
        mock,
        [
            {"url": receiver.url_for("/obs"), "events": [2]},
            {"url": receiver.url_for("/doc"), "events": [2], "format": "documented"},
            {"url": receiver.url_for("/receipts-only"), "events": [1]},
        ],
    )
    set_webhooks(mock, replies=receiver.url_for("/v1-replies"))
    mock.send(to="447700900123", **{"from": "Acme"})  # a v1 message: its replies count too
    for content in ("YES", "NO"):
        response = mock.client.post(
            "/_mock/replies", json={"from": "447700900123", "to": "Acme", "content": content}
        )
        assert response.status_code == 200, response.text
    mock.advance(0)
    assert receiver.posts("/receipts-only") == []
    assert len(receiver.posts("/v1-replies")) == 2  # v1 replies still go as before
    # Replies carry no ordering: two in flight to one URL may arrive either way round.
    observed = sorted(
        (orjson.loads(p.body) for p in receiver.posts("/obs")), key=lambda e: e["data"]["Body"]
    )[::-1]  # YES, NO
    documented = sorted(
        (orjson.loads(p.body) for p in receiver.posts("/doc")), key=lambda e: e["data"]["body"]
    )[::-1]
    assert [e["event_type"] for e in observed] == [2, 2]
    first = observed[0]["data"]
    assert set(first) == {"MessageId", "InboundNumber", "Sender", "Body", "ReceivedAt", "Channel"}
    assert (first["InboundNumber"], first["Sender"], first["Body"], first["Channel"]) == (
        "Acme",
        "+447700900123",
        "YES",
        "sms",
    )
    assert re.fullmatch(r"\d{18,19}", first["MessageId"])
    assert observed[1]["data"]["MessageId"] > first["MessageId"]  # increasing, distinct
    doc = documented[0]
    assert doc["eventType"] == 2
    assert doc["data"] == {
        "messageId": first["MessageId"],
        "inboundNumber": "Acme",
        "sender": "+447700900123",
        "body": "YES",
        "receivedAt": first["ReceivedAt"],
    }
    # One event, two endpoints: the same id, spelled per format.
    assert doc["id"] == "evt_" + uuid.UUID(observed[0]["id"]).hex
    assert {d["kind"] for d in deliveries(mock)} == {"reply", "connect.inbound"}


def test_any_2xx_counts_and_retries_keep_the_event_id(mock: Mock, receiver: WebhookSink) -> None:
    use_scenario(mock, "name: one\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n")
    put_endpoints(mock, [{"url": receiver.url_for("/h"), "secret": "s3"}])
    receiver.respond_in_turn(500, 503, 204)
    connect_send(mock)
    mock.advance(1)
    mock.advance(1)
    mock.advance(2)
    posts = receiver.posts()
    assert [p.status for p in posts] == [500, 503, 204]
    assert len({p.body for p in posts}) == 1  # same event id, same timestamp
    assert [p.headers["x-mock-attempt"] for p in posts] == ["1", "2", "3"]
    assert len({p.headers["x-mock-delivery-id"] for p in posts}) == 1
    for post in posts:  # signed afresh at each attempt
        stamp = post.headers["x-webhook-timestamp"]
        assert post.headers["x-webhook-signature"] == signature("s3", stamp, post.body)
    mock.advance(60)
    assert len(receiver.posts()) == 3  # 204 was received: no more attempts
    (delivery,) = deliveries(mock)
    assert (delivery["state"], delivery["kind"], delivery["endpoint"]) == (
        "delivered",
        "connect.receipt",
        0,
    )
    assert endpoint_listing(mock)[0]["consecutiveFailures"] == 0  # reset by the success


def test_v1_still_needs_exactly_200(mock: Mock, receiver: WebhookSink) -> None:
    use_scenario(mock, "name: one\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n")
    set_webhooks(mock, receipts=receiver.url_for("/v1"))
    receiver.respond_with(204)
    mock.send()
    mock.advance(1.25)
    mock.advance(1)
    assert [p.status for p in receiver.posts()] == [204, 200]


def test_disable_after_consecutive_failures_then_enable_and_replay(
    configured: Any, receiver: WebhookSink
) -> None:
    dead = closed_port_url("/dead")
    mock = configured(
        "webhooks: {disableAfter: 3, firstRetry: 1s}\n"
        "openMode:\n"
        f"  webhookEndpoints: [{{url: '{dead}', events: [1]}}, "
        f"{{url: '{receiver.url_for('/live')}', events: [1]}}]\n"
    )
    use_scenario(mock, "name: one\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n")
    first = connect_send(mock)
    mock.advance(1)  # attempt 1 (failures 1)
    mock.advance(1)  # attempt 2 (failures 2)
    second = connect_send(mock)
    mock.advance(1)  # second's attempt 1 and first's retry are due: failures reach 3
    listing = endpoint_listing(mock)
    assert [(e["index"], e["enabled"]) for e in listing] == [(0, False), (1, True)]
    assert listing[0]["consecutiveFailures"] == 3
    dead_deliveries = deliveries(mock, url=dead)
    assert {d["state"] for d in dead_deliveries} == {"failed"}  # nothing left pending
    # While disabled it gets nothing: a new event is kept as failed, unattempted.
    third = connect_send(mock)
    mock.advance(5)
    newest = deliveries(mock, url=dead)[0]
    assert orjson.loads(orjson.dumps(newest["body"]))["data"]["MessageId"] == int(third.reference)
    assert (newest["state"], newest["attempts"]) == ("failed", [])
    assert len(receiver.posts("/live")) == 3  # the other endpoint got all three
    # A replay of a disabled endpoint's event is refused until it is enabled.
    replay = mock.client.post(f"/_mock/webhooks/{newest['id']}/replay")
    assert replay.status_code == 409, replay.text
    account = account_id(mock)
    enabled = mock.client.post(f"/_mock/accounts/{account}/endpoints/0/enable")
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["enabled"], enabled.json()["consecutiveFailures"]) == (True, 0)
    # Point the endpoint at a live receiver (PUT replaces them all) and replay.
    put_endpoints(mock, [{"url": dead, "events": [1]}])
    replayed = mock.client.post(f"/_mock/webhooks/{newest['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] == "pending"
    assert {first.reference, second.reference} <= {
        str(d["body"]["data"]["MessageId"]) for d in dead_deliveries
    }
    missing = mock.client.post("/_mock/webhooks/WH0000/replay")
    assert missing.status_code == 404


def test_replay_of_a_failed_v1_delivery_continues_its_attempt_numbers(
    configured: Any, receiver: WebhookSink
) -> None:
    mock = configured("webhooks: {maxAge: 3s, firstRetry: 1s}\n")
    use_scenario(mock, "name: one\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n")
    set_webhooks(mock, receipts=receiver.url_for("/v1"))
    receiver.respond_with(500, times=3)
    mock.send()
    for _ in range(6):
        mock.advance(1)
    (delivery,) = deliveries(mock)
    assert delivery["state"] == "failed"
    tried = len(delivery["attempts"])
    conflict = mock.client.post(f"/_mock/webhooks/{delivery['id']}/replay")
    assert conflict.status_code == 200, conflict.text
    again = mock.client.post(f"/_mock/webhooks/{delivery['id']}/replay")
    assert again.status_code == 409  # pending now, not failed
    mock.advance(0)
    posts = receiver.posts()
    assert posts[-1].status == 200
    assert posts[-1].headers["x-mock-attempt"] == str(tried + 1)
    assert deliveries(mock)[0]["state"] == "delivered"


def test_endpoints_listing_and_put_validation(mock: Mock) -> None:
    account = account_id(mock)
    empty = mock.client.get(f"/_mock/accounts/{account}/endpoints")
    assert empty.json() == {"items": [], "page": 1, "pageSize": 100, "totalCount": 0}
    bad = mock.client.put(
        f"/_mock/accounts/{account}/endpoints",
        json=[{"url": "ftp://x", "events": [3], "format": "xml", "secret": ""}, "nope"],
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {
        "[0].url",
        "[0].events",
        "[0].format",
        "[0].secret",
        "[1]",
    }
    assert mock.client.put(f"/_mock/accounts/{account}/endpoints", json={}).status_code == 400
    listing = put_endpoints(mock, [{"URL": "http://127.0.0.1:9/x", "Secret": "k"}])
    assert listing["items"] == [
        {
            "index": 0,
            "url": "http://127.0.0.1:9/x",
            "events": [1, 2],
            "secret": "k",
            "format": "observed",
            "enabled": True,
            "consecutiveFailures": 0,
        }
    ]
    unknown = mock.client.get("/_mock/accounts/nobody/endpoints")
    assert unknown.status_code == 404
    assert mock.client.post(f"/_mock/accounts/{account}/endpoints/5/enable").status_code == 404


def test_costs_come_from_pricing(configured: Any, receiver: WebhookSink) -> None:
    mock = configured(
        "pricing: {gbpPerSegment: 0.035, eurPerSegment: 0.04}\n"
        "openMode:\n"
        f"  webhookEndpoints: [{{url: '{receiver.url_for('/h')}', events: [1]}}]\n"
    )
    use_scenario(mock, "name: one\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n")
    connect_send(mock, "x" * 400)  # three GSM-7 segments
    mock.advance(1)
    (post,) = receiver.posts()
    data = orjson.loads(post.body)["data"]
    assert (data["SmsParts"], data["CostGbp"], data["CostEur"]) == (3, 0.105, 0.12)
    assert b'"CostGbp":0.105}' in post.body
