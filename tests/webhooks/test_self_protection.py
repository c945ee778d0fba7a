"""The mock never acts on its own webhooks (issue 16, defects 1 and 2), through a real
server: a receipt URL at ``/_mock/reset`` must not let one API key wipe every account, a
reply URL at ``/_mock/replies`` must not loop; a redirect or a forwarding receiver cannot
get round either, because the control surface refuses the mock's webhook POSTs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.webhooks.dispatcher import NOT_SENT_TO_SELF

VICTIM, ATTACKER = "victim-key", "attacker-key"


class Client:
    def __init__(self, server: ServerThread) -> None:
        self.base = server.base_url
        self.port = server.port
        self.http = httpx.Client(base_url=self.base, trust_env=False, timeout=15)

    def v1(self, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"X-API-Key": key}, **kwargs)

    def send(self, key: str, **fields: Any) -> dict[str, Any]:
        body = {"to": "447700900100", "from": "Acme", "content": "Hi", **fields}
        response = self.v1("POST", "/v1/Sms/Send", key, json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def advance(self, seconds: float) -> None:
        response = self.http.post("/_mock/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def deliveries(self, key_account: str) -> list[dict[str, Any]]:
        account = self.v1("GET", "/v1/Account", key_account).json()["id"]
        response = self.http.get("/_mock/webhooks", params={"account": account})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def victim_state(self) -> tuple[int, int]:
        messages = self.v1("GET", "/v1/Sms", VICTIM).json()["totalCount"]
        contacts = self.v1("GET", "/v1/Contacts", VICTIM).json()["totalCount"]
        return messages, contacts


@pytest.fixture
def client(live_server: Callable[..., ServerThread]) -> Iterator[Client]:
    made = Client(live_server())
    yield made
    made.http.close()


def seed_victim(client: Client) -> None:
    client.send(VICTIM)
    contact = {"phoneNumber": "447700900555", "firstName": "Vic"}
    assert client.v1("POST", "/v1/Contacts", VICTIM, json=contact).status_code == 201
    assert client.victim_state() == (1, 1)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/_mock/reset",
        "http://localhost:{port}/_mock/reset",
        "http://127.0.0.2:{port}/_MOCK/reset",
        "http://127.0.0.1:{port}/x/../_mock/reset",
        "http://127.0.0.1:{port}/%5Fmock/reset",
        "http://[::ffff:127.0.0.1]:{port}/_mock/reset",
    ],
)
def test_a_receipt_url_at_the_mocks_own_reset_is_never_posted(client: Client, target: str) -> None:
    seed_victim(client)
    url = target.format(port=client.port)

    client.send(ATTACKER, deliveryReceiptUrl=url)
    client.advance(10)

    assert client.victim_state() == (1, 1)
    (delivery, *_) = client.deliveries(ATTACKER)
    assert delivery["state"] == "failed"
    assert [a["error"] for a in delivery["attempts"]] == [NOT_SENT_TO_SELF]
    assert delivery["attempts"][0]["status"] is None


def test_a_reply_url_at_the_mocks_own_replies_does_not_loop(client: Client) -> None:
    client.send(VICTIM)
    webhooks = {"replyUrl": f"{client.base}/_mock/replies", "deliveryReceiptUrl": None}
    assert client.v1("PUT", "/v1/Account/Webhooks", VICTIM, json=webhooks).status_code == 200
    account = client.v1("GET", "/v1/Account", VICTIM).json()["id"]
    inbound = {"from": "447700900100", "to": "Acme", "content": "YES", "account": account}
    assert client.http.post("/_mock/replies", json=inbound).status_code == 200

    client.advance(1)  # before the fix this never returned (the httpx timeout fails it)
    client.advance(60)

    assert client.v1("GET", "/v1/Replies", VICTIM).json()["totalCount"] == 1
    (delivery,) = client.deliveries(VICTIM)
    assert delivery["kind"] == "reply"
    assert delivery["state"] == "failed"
    assert [a["error"] for a in delivery["attempts"]] == [NOT_SENT_TO_SELF]


def test_the_control_surface_refuses_a_request_carrying_the_webhook_mark(client: Client) -> None:
    seed_victim(client)

    response = client.http.post("/_mock/reset", headers={"X-Mock-Delivery-Id": "WH123"})

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Mock-Delivery-Id" in response.json()["detail"]
    assert client.victim_state() == (1, 1)
    # The v1 surface is not a control surface: a webhook there is an ordinary request.
    marked = client.http.get(
        "/v1/Account", headers={"X-API-Key": VICTIM, "X-Mock-Delivery-Id": "WH1"}
    )
    assert marked.status_code == 200


Answer = Callable[[bytes, dict[str, str]], tuple[int, dict[str, str]]]


class _Relay(BaseHTTPRequestHandler):
    """A receiver that answers every POST with what ``server.answer`` says."""

    server: _RelayServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.received.append(dict(self.headers))
        status, headers = self.server.answer(body, dict(self.headers))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _RelayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.answer = answer
        self.received: list[dict[str, str]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def relay() -> Iterator[Callable[..., _RelayServer]]:
    servers: list[_RelayServer] = []

    def start(answer: Answer) -> _RelayServer:
        server = _RelayServer(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_the_control_surface_is_not_followed(
    client: Client, relay: Callable[..., _RelayServer]
) -> None:
    seed_victim(client)
    receiver = relay(lambda body, headers: (307, {"Location": f"{client.base}/_mock/reset"}))

    client.send(ATTACKER, deliveryReceiptUrl=receiver.url)
    client.advance(10)

    assert client.victim_state() == (1, 1)
    *_, first = client.deliveries(ATTACKER)
    assert len(first["attempts"]) > 1
    assert {a["status"] for a in first["attempts"]} == {307}
    assert first["state"] == "pending"  # a 3xx is an answer like any non-200: retried
    assert len(receiver.received) == len(first["attempts"])


def test_a_receiver_forwarding_replies_back_to_the_control_surface_cannot_loop(
    client: Client, relay: Callable[..., _RelayServer]
) -> None:
    """A receiver the dispatcher cannot tell from any other forwards each reply webhook,
    headers included, to ``/_mock/replies``: the control surface refuses it."""

    def forward(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        kept = {k: v for k, v in headers.items() if k.lower().startswith("x-mock")}
        inbound = {"from": "447700900100", "to": "Acme", "content": "again"}
        with httpx.Client(trust_env=False, timeout=10) as http:
            answer = http.post(f"{client.base}/_mock/replies", json=inbound, headers=kept)
        return answer.status_code, {}

    receiver = relay(forward)
    client.send(VICTIM)
    webhooks = {"replyUrl": receiver.url}
    assert client.v1("PUT", "/v1/Account/Webhooks", VICTIM, json=webhooks).status_code == 200
    inbound = {"from": "447700900100", "to": "Acme", "content": "YES"}
    assert client.http.post("/_mock/replies", json=inbound).status_code == 200

    client.advance(1)
    client.advance(30)

    assert client.v1("GET", "/v1/Replies", VICTIM).json()["totalCount"] == 1
    (delivery,) = client.deliveries(VICTIM)
    assert delivery["attempts"] and {a["status"] for a in delivery["attempts"]} == {403}
