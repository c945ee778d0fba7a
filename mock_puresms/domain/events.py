"""What happened, published by the domain for the simulation, webhooks and event streams.

Subscribers are called synchronously, in publication order, inside the change that
caused the event; they must only record or schedule work, never block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from mock_puresms.domain.messages import Message, Routing
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus


# Not frozen: one is built per send, and a frozen dataclass costs a single send a
# noticeable share of its time to build. Treat it as read-only all the same.
@dataclass(slots=True)
class MessagesCreated:
    """Messages were accepted by one send request, in request order."""

    messages: Sequence[Message]
    # Set when every message shares these fields (``Routing``); ``None`` says nothing.
    routing: Routing | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A message moved to ``status`` at mock time ``at``; each one is a delivery receipt."""

    message: Message
    status: DeliveryStatus
    at: int


@dataclass(frozen=True, slots=True)
class StatusesChanged:
    """Messages moved to ``status`` together at mock time ``at`` (a simulation step, a
    batch cancelled): one event for the group, which subscribers handle in bulk; it
    means exactly what one ``StatusChanged`` per message, in this order, would."""

    messages: Sequence[Message]
    status: DeliveryStatus
    at: int
    routing: Routing | None = None  # as in ``MessagesCreated``

    def each(self) -> Iterator[StatusChanged]:
        """The group as one ``StatusChanged`` per message, in order."""
        for message in self.messages:
            yield StatusChanged(message, self.status, self.at)


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    """A phone answered."""

    reply: Reply


@dataclass(frozen=True, slots=True)
class WebhookAttempted:
    """A webhook POST was tried (published by the dispatcher, for event streams)."""

    delivery_id: str
    url: str
    attempt: int
    # The chaos that POST carried on purpose (``Attempt.chaos``; empty: a plain one).
    chaos: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateReset:
    """State was forgotten: of one account, or of all (``account_id`` ``None``)."""

    account_id: str | None


@dataclass(frozen=True, slots=True)
class MessagesLoaded:
    """``count`` messages a durable store kept came into memory after a restart, in
    the background: nothing happened to them (for the process's own housekeeping, such
    as the garbage collector's policy; streams and webhooks ignore it)."""

    count: int


Event = (
    MessagesCreated
    | MessagesLoaded
    | StatusChanged
    | StatusesChanged
    | ReplyReceived
    | WebhookAttempted
    | StateReset
)
Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out of domain events to subscribers, in subscription order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber(event)
