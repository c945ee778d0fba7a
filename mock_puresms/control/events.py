"""``GET /_mock/events``: a Server-Sent Events stream of what happens in the mock.

Every domain event becomes one or more SSE events:

- ``message.created``: the message as it was accepted (v1 JSON plus ``account`` and
  ``api``), one per message of a send;
- ``message.status``: ``{account, reference, clientReference, batchReference, to,
  deliveryStatus, deliveryStatusName, at}``, one per status change (each is a receipt);
- ``reply.received``: the reply (v1 JSON plus ``account``);
- ``webhook.attempted``: ``{deliveryId, url, attempt, chaos}``, one per webhook POST
  tried; ``chaos`` lists the chaos that POST carried on purpose (``delay``,
  ``badSignature``, ``duplicate``...), empty for a plain one.

Publishing never blocks the bus: each client has a bounded queue of bus events that
the bus appends to and the client's response drains. A client that falls
``max_pending`` events behind is sent ``event: overflow`` and disconnected, rather than
silently missing events. A stream ends when the client goes away and when the server
shuts down (``event: shutdown``); while idle, a comment line is sent every
``heartbeat`` seconds so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_puresms.control.closing import Closing
from mock_puresms.domain.events import (
    Event,
    MessagesCreated,
    MessagesLoaded,
    ReplyReceived,
    StatusChanged,
    StatusesChanged,
    WebhookAttempted,
)
from mock_puresms.domain.messages import Message
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.web.render import message_json, reply_json

MAX_PENDING = 100_000
HEARTBEAT_SECONDS = 15.0
# Bus events rendered into one write: big enough to be cheap, small enough that a
# 15,000-message send does not become one 10 MB write.
_EVENTS_PER_WRITE = 500


class _Client:
    """One connected stream: the bus events it has yet to send."""

    __slots__ = ("closed", "overflowed", "pending", "waiter")

    def __init__(self) -> None:
        self.pending: deque[Event] = deque()
        self.overflowed = False
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None

    def notify(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class EventStreams:
    """Fans bus events out to the connected streams; subscribed to the event bus."""

    def __init__(
        self,
        closing: Closing,
        *,
        max_pending: int = MAX_PENDING,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.closing = closing
        self.max_pending = max_pending
        self.heartbeat = heartbeat
        self._clients: set[_Client] = set()

    def __len__(self) -> int:
        return len(self._clients)

    def __call__(self, event: Event) -> None:
        if not self._clients or isinstance(event, MessagesLoaded):
            return
        if isinstance(event, StatusesChanged):
            # A stream shows each change as its own event, and counts them one by one.
            for change in event.each():
                self(change)
            return
        for client in self._clients:
            if client.overflowed or client.closed:
                continue
            if len(client.pending) >= self.max_pending:
                client.overflowed = True
                client.pending.clear()
            else:
                client.pending.append(event)
            client.notify()

    def connect(self) -> _Client:
        client = _Client()
        client.closed = self.closing.closed
        self._clients.add(client)
        return client

    def disconnect(self, client: _Client) -> None:
        self._clients.discard(client)

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        for client in self._clients:
            client.closed = True
            client.notify()


def _frame(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _created_json(message: Message) -> dict[str, Any]:
    """The message as it was when accepted: its later changes have their own events."""
    body = message_json(message)
    if message.history:
        first = body["history"][0]
        body["deliveryStatus"] = first["deliveryStatus"]
        body["deliveryStatusName"] = first["deliveryStatusName"]
        body["updatedAt"] = first["at"]
        body["history"] = [first]
    body["account"] = message.account_id
    body["api"] = message.api
    return body


def render(event: Event) -> Iterator[bytes]:
    """The SSE frames of one bus event."""
    if isinstance(event, MessagesCreated):
        for message in event.messages:
            yield _frame("message.created", _created_json(message))
    elif isinstance(event, StatusChanged):
        message = event.message
        yield _frame(
            "message.status",
            {
                "account": message.account_id,
                "reference": message.reference,
                "clientReference": message.client_reference,
                "batchReference": message.batch_reference,
                "to": message.to,
                "deliveryStatus": int(event.status),
                "deliveryStatusName": event.status.label,
                "at": format_ms(event.at),
            },
        )
    elif isinstance(event, ReplyReceived):
        yield _frame(
            "reply.received", {**reply_json(event.reply), "account": event.reply.account_id}
        )
    elif isinstance(event, WebhookAttempted):
        yield _frame(
            "webhook.attempted",
            {
                "deliveryId": event.delivery_id,
                "url": event.url,
                "attempt": event.attempt,
                "chaos": list(event.chaos),
            },
        )


class EventStreamResponse(Response):
    """A ``text/event-stream`` response that follows ``streams`` until it ends."""

    def __init__(self, streams: EventStreams) -> None:
        self.streams = streams
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self.streams.connect()
        disconnected = asyncio.ensure_future(_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await _body(send, b": mock-puresms events\n\n")
            last = await self._follow(client, send, disconnected)
            # Unregistered before the last write: a client that has seen its stream end
            # must not find it still counted.
            self.streams.disconnect(client)
            await send({"type": "http.response.body", "body": last, "more_body": False})
        except OSError:
            return  # the client went away mid-write
        finally:
            self.streams.disconnect(client)
            disconnected.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await disconnected

    async def _follow(self, client: _Client, send: Send, disconnected: asyncio.Task[None]) -> bytes:
        """Write the client's events until its stream ends; returns the frame that ends
        it (``overflow``, ``shutdown``, or nothing when the client went away)."""
        loop = asyncio.get_running_loop()
        while not disconnected.done():
            if client.pending:
                chunk: list[bytes] = []
                for _ in range(min(len(client.pending), _EVENTS_PER_WRITE)):
                    chunk.extend(render(client.pending.popleft()))
                if chunk:
                    await _body(send, b"".join(chunk))
                continue
            if client.overflowed:
                return _frame("overflow", {"maxPending": self.streams.max_pending})
            if client.closed:
                return _frame("shutdown", {})
            client.waiter = loop.create_future()
            done, _ = await asyncio.wait(
                {client.waiter, disconnected},
                timeout=self.streams.heartbeat,
                return_when=asyncio.FIRST_COMPLETED,
            )
            client.waiter = None
            if not done:
                await _body(send, b": keepalive\n\n")
        return b""


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _disconnect(receive: Receive) -> None:
    """Returns when the client has gone away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
