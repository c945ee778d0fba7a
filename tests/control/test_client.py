"""``ControlClient``: typed results, helpful failures, kept-alive connections."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_puresms import DeliveryStatus
from mock_puresms.control.models import Message, Reply, WebhookDelivery
from mock_puresms.settings import Settings
from mock_puresms.testing.client import ControlClient, MockPureSMSError, Transport
from mock_puresms.testing.server_thread import ServerThread

KEY = "client-key"


@pytest.fixture
def server(live_server: Callable[..., ServerThread]) -> ServerThread:
    return live_server()


@pytest.fixture
def mock(server: ServerThread) -> Iterator[ControlClient]:
    with ControlClient(server.base_url, api_key=KEY) as client:
        yield client


@pytest.fixture
def v1(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"X-API-Key": KEY}, trust_env=False
    ) as client:
        yield client


def send(v1: httpx.Client, to: str = "447700900100", **fields: Any) -> str:
    body = {"to": to, "from": "Acme", "content": "Hello", **fields}
    response = v1.post("/v1/Sms/Send", json=body)
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


def test_messages_are_typed_with_statuses_and_aware_times(
    mock: ControlClient, v1: httpx.Client
) -> None:
    reference = send(v1, clientReference="c-1")
    mock.advance(3)

    [message] = mock.messages()

    assert isinstance(message, Message)
    assert message.reference == reference
    assert message.status is DeliveryStatus.DELIVERED
    assert message.statuses == [
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.ENROUTE,
        DeliveryStatus.DELIVERED,
    ]
    assert (message.to, message.from_, message.client_reference) == ("447700900100", "Acme", "c-1")
    assert message.created_at.tzinfo is UTC
    assert (message.history[-1].at - message.created_at).total_seconds() == 3
    assert message.account and mock.message(reference) == message


def test_message_filters_take_codes_names_and_members(
    mock: ControlClient, v1: httpx.Client
) -> None:
    delivered = send(v1)
    mock.advance(3)
    send(v1, to="447700900200")

    for status in (2, "delivered", DeliveryStatus.DELIVERED):
        assert [m.reference for m in mock.messages(status=status)] == [delivered]
    assert len(mock.messages(to="+447700900200")) == 1
    account = mock.message(delivered).account
    assert account is not None and len(mock.messages(account=account)) == 2
    with pytest.raises(MockPureSMSError, match="No account with id or name 'nobody'"):
        mock.messages(account="nobody")


def test_messages_follow_every_page(mock: ControlClient, v1: httpx.Client) -> None:
    bulk = {"from": "Acme", "content": "x", "messages": [{"to": "447700900100"}] * 1500}
    assert v1.post("/v1/Sms/SendBulk", json=bulk).status_code == 200

    assert len(mock.messages()) == 1500


def test_set_status_takes_any_form_and_errors_name_the_tool(
    mock: ControlClient, v1: httpx.Client
) -> None:
    reference = send(v1)

    assert mock.set_status(reference, "Undeliverable").status is DeliveryStatus.UNDELIVERABLE
    with pytest.raises(MockPureSMSError, match=r"^mock-puresms: POST .* answered 409") as caught:
        mock.set_status(reference, DeliveryStatus.DELIVERED)
    assert caught.value.status == 409
    with pytest.raises(ValueError, match=r"^mock-puresms: 'Sent' is not a delivery status"):
        mock.set_status(reference, "Sent")


def test_replies_are_typed_and_listed_for_the_clients_key(
    mock: ControlClient, v1: httpx.Client
) -> None:
    reference = send(v1)

    reply = mock.reply("447700900100", "Acme", "YES")

    assert isinstance(reply, Reply)
    assert (reply.in_reply_to, reply.from_, reply.content) == (reference, "447700900100", "YES")
    [listed] = mock.replies()
    assert (listed.reference, listed.in_reply_to) == (reply.reference, reference)
    assert mock.replies(api_key="someone-else") == []


def test_webhooks_are_typed(mock: ControlClient, v1: httpx.Client) -> None:
    send(v1, deliveryReceiptUrl="http://127.0.0.1:9/hook")
    mock.advance(2)

    deliveries = mock.webhooks(url="http://127.0.0.1:9/hook")

    assert deliveries and all(isinstance(d, WebhookDelivery) for d in deliveries)
    assert deliveries[0].kind == "receipts"
    assert deliveries[0].attempts[0].status is None and deliveries[0].attempts[0].error


def test_faults_round_trip(mock: ControlClient, v1: httpx.Client) -> None:
    fault = mock.fail_next("POST", "/v1/Sms/Send", 503, times=2, headers={"Retry-After": "1"})
    delay = mock.delay_next("GET", "/v1/Account", delay_ms=10)

    assert [f.id for f in mock.faults()] == [delay.id, fault.id]
    assert fault.status == 503 and delay.status is None and delay.delay_ms == 10
    assert v1.post("/v1/Sms/Send", json={}).headers["retry-after"] == "1"
    assert mock.clear_faults() == 2


def test_use_scenario_takes_a_name_a_path_or_text(mock: ControlClient, tmp_path: Path) -> None:
    yaml_text = "name: mine\ndefault:\n  lifecycle: [{status: Expired, after: 1s}]\n"
    file = tmp_path / "mine.yaml"
    file.write_text(yaml_text)

    assert mock.use_scenario("failures").name == "failures"
    assert mock.use_scenario(yaml_text).name == "mine"
    assert mock.use_scenario("realistic").name == "realistic"
    assert mock.use_scenario(file).source == yaml_text
    assert mock.use_scenario(str(file)).name == "mine"
    assert mock.use_scenario('{"name": "json-one"}').name == "json-one"
    assert mock.scenario().name == "json-one"
    with pytest.raises(MockPureSMSError, match="line 3"):
        mock.use_scenario("name: bad\ndefault:\n  lifecycle: [{status: Nope, after: 1s}]\n")
    with pytest.raises(MockPureSMSError, match="shipped scenario"):
        mock.use_scenario("no-such-scenario")


def test_reset_can_restore_a_shipped_scenario(mock: ControlClient, v1: httpx.Client) -> None:
    send(v1)
    mock.use_scenario("failures")

    mock.reset(scenario="default")

    assert mock.messages() == []
    assert mock.scenario().name == "default"


def test_wait_for_and_the_clock(mock: ControlClient, v1: httpx.Client) -> None:
    reference = send(v1)
    before = mock.clock()

    after = mock.advance(2.5)

    assert before.mode == "virtual" and (after.now - before.now).total_seconds() == 2.5
    assert mock.wait_for(reference, "Enroute", timeout=0).status is DeliveryStatus.ENROUTE
    with pytest.raises(MockPureSMSError, match="answered 408"):
        mock.wait_for(reference, "Delivered", timeout=0.1)


def test_assert_delivered_lists_near_misses(mock: ControlClient, v1: httpx.Client) -> None:
    reference = send(v1)
    other = send(v1, to="447700900200")
    mock.advance(1)

    with pytest.raises(AssertionError) as not_yet:
        mock.assert_delivered(reference)
    with pytest.raises(AssertionError) as unknown:
        mock.assert_delivered(reference[:-1] + "Z")

    assert str(not_yet.value).startswith(
        f"mock-puresms: message {reference} is Enroute, not Delivered; its history: Accepted ("
    )
    assert "did you mean" in str(unknown.value) and reference in str(unknown.value)
    mock.advance(2)
    assert mock.assert_delivered(other).reference == other


def test_assert_sent_lists_what_was_sent(mock: ControlClient, v1: httpx.Client) -> None:
    send(v1, content="Your code is 1234")

    assert len(mock.assert_sent(to="+447700900100", content="Your code is 1234")) == 1
    with pytest.raises(AssertionError) as caught:
        mock.assert_sent(to="447700900999")

    message = str(caught.value)
    assert message.startswith("mock-puresms: expected a message with to='447700900999', found 0")
    assert "447700900100 (Accepted) 'Your code is 1234'" in message


def test_an_unreachable_mock_is_an_error_naming_it() -> None:
    with (
        ControlClient("http://127.0.0.1:9") as client,
        pytest.raises(MockPureSMSError, match=r"^mock-puresms: cannot reach the mock at"),
    ):
        client.health()


def test_the_admin_token_is_sent_to_the_control_surface() -> None:
    with ServerThread(Settings(port=0, clock="virtual", admin_token="t0k")) as server:
        with ControlClient(server.base_url) as anonymous, pytest.raises(MockPureSMSError) as e:
            anonymous.clock()
        assert e.value.status == 401
        with ControlClient(server.base_url, admin_token="t0k") as admin:
            assert admin.clock().mode == "virtual"


class _ClosingHandler(BaseHTTPRequestHandler):
    """Answers on HTTP/1.1 without ``Connection: close``, then closes anyway."""

    protocol_version = "HTTP/1.1"
    served = 0

    def do_GET(self) -> None:
        type(self).served += 1
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ClosingHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        transport = Transport(f"http://127.0.0.1:{httpd.server_address[1]}")
        with ControlClient(transport) as client:
            assert [client.health()["status"] for _ in range(3)] == ["ok"] * 3
        transport.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert _ClosingHandler.served == 3


def test_add_endpoint_sends_inbound_events_to_a_real_receiver(mock: ControlClient) -> None:
    from mock_puresms.control.models import WebhookEndpoint
    from mock_puresms.domain.accounts import open_mode_account_id
    from mock_puresms.testing.webhook_sink import SinkServer

    with SinkServer() as sinks:
        receiver = sinks.sink(at_root=True)
        added = mock.add_endpoint(receiver.url_for("/events"), events=(2,), secret="whsec")
        second = mock.add_endpoint(receiver.url_for("/doc"), format="documented")
        assert added == WebhookEndpoint(
            0, receiver.url_for("/events"), (2,), "whsec", "observed", True, 0
        )
        assert (second.index, second.events, second.format) == (1, (1, 2), "documented")
        assert [e.url for e in mock.endpoints()] == [added.url, second.url]
        mock.reply("447700900123", "Acme", "YES", account=open_mode_account_id(KEY))
        mock.advance(0)
        (post,) = receiver.posts("/events")
        assert post.json["event_type"] == 2
        assert post.json["data"]["Body"] == "YES"
        assert "x-webhook-signature" in post.headers
        (documented,) = receiver.posts("/doc")
        assert documented.json["eventType"] == 2
        kinds = {d.kind for d in mock.webhooks()}
        assert kinds == {"connect.inbound"}
        assert mock.enable_endpoint(0).enabled
        with pytest.raises(MockPureSMSError, match="409"):
            mock.replay(mock.webhooks()[0].id)  # delivered: nothing to replay
