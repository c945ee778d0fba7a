"""``GET /_mock/events``: Server-Sent Events on a real server, and how streams end."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mock_puresms.app import control_for
from mock_puresms.control.events import EventStreams
from mock_puresms.testing.server_thread import ServerThread

HEADERS = {"X-API-Key": "events-key"}


@dataclass
class Listener:
    """An SSE client in a thread: ``frames`` get (event, data) pairs, comments as such."""

    base_url: str
    frames: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    connected: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    content_type: str | None = None

    def run(self) -> None:
        try:
            with (
                httpx.Client(base_url=self.base_url, timeout=30, trust_env=False) as client,
                client.stream("GET", "/_mock/events") as response,
            ):
                self.status = response.status_code
                self.content_type = response.headers["content-type"]
                name = ""
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.frames.put(("comment", line[1:].strip()))
                        self.connected.set()
                    elif line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        self.frames.put((name, json.loads(line[len("data: ") :])))
                    if self.stop.is_set():
                        return
        finally:
            self.ended.set()

    def next(self, timeout: float = 5) -> tuple[str, Any]:
        while True:
            frame = self.frames.get(timeout=timeout)
            if frame[0] != "comment":
                return frame

    def events(self, count: int) -> list[tuple[str, Any]]:
        return [self.next() for _ in range(count)]


@pytest.fixture
def server(live_server: Callable[..., ServerThread]) -> ServerThread:
    return live_server()


@pytest.fixture
def listen(server: ServerThread) -> Iterator[Callable[[], Listener]]:
    listeners: list[tuple[Listener, threading.Thread]] = []

    def start() -> Listener:
        listener = Listener(server.base_url)
        thread = threading.Thread(target=listener.run, daemon=True)
        thread.start()
        assert listener.connected.wait(5), "the stream did not open"
        listeners.append((listener, thread))
        return listener

    yield start
    for listener, _ in listeners:
        listener.stop.set()
    server.stop()
    for _, thread in listeners:
        thread.join(5)


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        yield client


def streams_of(server: ServerThread) -> EventStreams:
    return control_for(server.app).streams


def test_messages_statuses_replies_and_webhook_attempts_are_streamed(
    listen: Callable[[], Listener], client: httpx.Client
) -> None:
    listener = listen()
    assert listener.status == 200
    assert listener.content_type == "text/event-stream; charset=utf-8"
    client.put(
        "/v1/Account/Webhooks",
        json={"deliveryReceiptUrl": "http://127.0.0.1:9/receipts"},
        headers=HEADERS,
    )
    sent = client.post(
        "/v1/Sms/Send",
        json={"to": "447700900100", "from": "Acme", "content": "Hi", "clientReference": "c1"},
        headers=HEADERS,
    ).json()
    reference = sent["reference"]

    name, created = listener.next()
    assert name == "message.created"
    assert created["reference"] == reference
    assert created["deliveryStatusName"] == "Accepted"
    assert created["clientReference"] == "c1"
    assert created["account"]

    client.post("/_mock/clock/advance", json={"seconds": 1.5})  # past the batch window
    name, status = listener.next()
    assert name == "message.status"
    assert (status["reference"], status["deliveryStatusName"]) == (reference, "Enroute")
    assert status["deliveryStatus"] == 1 and status["account"] == created["account"]
    name, attempt = listener.next()
    assert name == "webhook.attempted"
    assert attempt["url"] == "http://127.0.0.1:9/receipts" and attempt["attempt"] == 1

    client.post("/_mock/replies", json={"from": "447700900100", "to": "Acme", "content": "OK"})
    name, reply = listener.next()
    assert name == "reply.received"
    assert (reply["content"], reply["inReplyTo"]) == ("OK", reference)


def test_a_created_event_shows_the_message_as_accepted_even_when_read_late(
    listen: Callable[[], Listener], client: httpx.Client
) -> None:
    listener = listen()
    client.post(
        "/v1/Sms/SendBulk",
        json={"from": "Acme", "content": "Hi", "messages": [{"to": "447700900100"}] * 3},
        headers=HEADERS,
    )
    client.post("/_mock/clock/advance", json={"seconds": 5})

    frames = listener.events(3 + 6)

    assert [name for name, _ in frames[:3]] == ["message.created"] * 3
    assert all(data["history"][-1]["deliveryStatusName"] == "Accepted" for _, data in frames[:3])
    assert [data["deliveryStatusName"] for _, data in frames[3:]] == ["Enroute"] * 3 + [
        "Delivered"
    ] * 3


def test_every_client_gets_every_event(
    listen: Callable[[], Listener], client: httpx.Client
) -> None:
    first, second = listen(), listen()

    client.post(
        "/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}, headers=HEADERS
    )

    assert first.next()[0] == second.next()[0] == "message.created"


def test_a_client_that_disconnects_is_forgotten(
    listen: Callable[[], Listener], client: httpx.Client, server: ServerThread
) -> None:
    listener = listen()
    assert len(streams_of(server)) == 1
    listener.stop.set()
    client.post(  # a frame for the listener to read, so that it returns and disconnects
        "/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}, headers=HEADERS
    )
    assert listener.ended.wait(5)

    deadline = time.monotonic() + 5
    while len(streams_of(server)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(streams_of(server)) == 0


def test_the_server_stops_while_a_client_is_connected(
    live_server: Callable[..., ServerThread],
) -> None:
    server = live_server()
    listener = Listener(server.base_url)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    assert listener.connected.wait(5)

    started = time.monotonic()
    server.stop()
    thread.join(5)

    assert time.monotonic() - started < 3, "the open stream held the shutdown up"
    assert listener.ended.is_set()
    assert listener.next(timeout=1)[0] == "shutdown"


def test_a_slow_client_is_told_of_the_overflow_and_disconnected_without_blocking(
    listen: Callable[[], Listener], client: httpx.Client, server: ServerThread
) -> None:
    streams_of(server).max_pending = 3
    listener = listen()
    bulk = {"from": "Acme", "content": "Hi", "messages": [{"to": "447700900100"}] * 10}
    client.post("/v1/Sms/SendBulk", json=bulk, headers=HEADERS)

    # Ten status changes are published at one instant: more than the client may lag.
    started = time.monotonic()
    assert client.post("/_mock/clock/advance", json={"seconds": 1}).status_code == 200
    assert time.monotonic() - started < 2

    names = []
    while True:
        name, data = listener.next()
        names.append(name)
        if name == "overflow":
            assert data == {"maxPending": 3}
            break
    assert listener.ended.wait(5)
    assert len(streams_of(server)) == 0


def test_an_idle_stream_gets_heartbeat_comments(
    listen: Callable[[], Listener], server: ServerThread
) -> None:
    streams_of(server).heartbeat = 0.05
    listener = listen()

    comments = []
    while len(comments) < 2:
        kind, text = listener.frames.get(timeout=5)
        if kind == "comment":
            comments.append(text)

    assert "keepalive" in comments
