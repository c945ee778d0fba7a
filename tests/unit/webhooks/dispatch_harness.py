"""An in-process webhook dispatcher for unit tests: virtual clock, scheduler, a fake sender.

No server and no network: the fake sender records each POST (with the mock-clock time
it was made) and answers from a script per URL, 200 once the script runs out.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_puresms.domain.accounts import Account, WebhookSettings
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.events import Event, StatusChanged, StatusesChanged
from mock_puresms.domain.messages import HistoryEntry, Message, Routing
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.settings import WebhookTuning
from mock_puresms.simulation.clock import VirtualClock
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.webhooks.dispatcher import WebhookDispatcher
from mock_puresms.webhooks.sender import DeliveryFailed

START = 1_000_000
ENROUTE, DELIVERED = DeliveryStatus.ENROUTE, DeliveryStatus.DELIVERED
DEFAULT_URL = "http://receiver.test/default"

# What a scripted answer is: an HTTP status, or the text of a ``DeliveryFailed``.
Answer = int | str


@dataclass
class Post:
    url: str
    raw: bytes
    body: Any
    headers: dict[str, str]
    timeout: float
    at: int  # mock-clock time of the POST
    answered: Answer

    @property
    def references(self) -> list[str]:
        return [receipt["reference"] for receipt in self.body]

    @property
    def statuses(self) -> list[int]:
        return [receipt["deliveryStatus"] for receipt in self.body]


@dataclass
class FakeSender:
    """A ``WebhookSender`` answering from per-URL scripts; records every POST."""

    clock: VirtualClock
    posts: list[Post] = field(default_factory=list)
    scripts: dict[str, deque[Answer]] = field(default_factory=dict)
    # Per URL, how long each POST takes in mock time (as it would on a real clock).
    slow: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    def answer(self, url: str, *answers: Answer) -> None:
        """The next POSTs to ``url`` get these answers, in turn; then 200."""
        self.scripts.setdefault(url, deque()).extend(answers)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
        script = self.scripts.get(url)
        answer: Answer = script.popleft() if script else 200
        self.posts.append(
            Post(url, body, orjson.loads(body), dict(headers), timeout, self.clock.now(), answer)
        )
        await asyncio.sleep(0)  # a real POST yields to the loop
        self.clock.move_to(self.clock.now() + self.slow.get(url, 0))
        if isinstance(answer, str):
            raise DeliveryFailed(answer)
        return answer

    async def close(self) -> None:
        self.closed = True

    def to(self, url: str) -> list[Post]:
        return [post for post in self.posts if post.url == url]


class Harness:
    """A dispatcher wired to a virtual clock, in-memory accounts and a fake sender.

    Build and use it inside one event loop (``in_loop``): POSTs run as tasks.
    """

    def __init__(
        self,
        tuning: Mapping[str, Any] | None = None,
        *,
        durable: bool = False,
        start: int = START,
    ) -> None:
        self.clock = VirtualClock(start=start)
        self.scheduler = Scheduler(self.clock)
        self.sender = FakeSender(self.clock)
        self.accounts: dict[str, Account] = {}
        self.add_account("acc", receipts=DEFAULT_URL)
        self.saved: list[tuple[list[Delivery], list[tuple[str, int]]]] = []
        # Per save: each delivery's id, number of attempts and state at that moment.
        self.snapshots: list[list[tuple[str, int, str]]] = []
        self.published: list[Event] = []
        self.tuning = WebhookTuning.model_validate(dict(tuning or {}))
        self.dispatcher = WebhookDispatcher(
            self.scheduler,
            self._account,
            self.tuning,
            lambda reply: {"reference": reply.reference, "content": reply.content},
            self._save,
            durable=durable,
            sender=self.sender,
            publish=self.published.append,
        )
        self._numbers = itertools.count(1)

    def add_account(
        self, account_id: str, *, receipts: str | None = None, secret: str | None = None
    ) -> Account:
        account = Account(account_id, account_id, webhooks=WebhookSettings(receipts, None, secret))
        self.accounts[account_id] = account
        return account

    async def _account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    async def _save(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]]
    ) -> None:
        self.saved.append((list(deliveries), list(flushed)))
        self.snapshots.append([(d.id, len(d.attempts), d.state) for d in deliveries])

    def message(
        self,
        *,
        account: str = "acc",
        url: str | None = None,
        client_reference: str | None = None,
        batch_reference: str | None = None,
    ) -> Message:
        """A new message (status Accepted now), references M0001, M0002, ..."""
        now = self.clock.now()
        return Message(
            f"M{next(self._numbers):04d}",
            account,
            "447700900000",
            "Mock",
            "hello",
            "GSM",
            1,
            False,
            DeliveryStatus.ACCEPTED,
            now,
            client_reference=client_reference,
            batch_reference=batch_reference,
            receipt_url=url,
            history=(HistoryEntry(DeliveryStatus.ACCEPTED, now),),
        )

    def change(
        self, messages: Sequence[Message], status: DeliveryStatus, *, shared: bool = False
    ) -> None:
        """Move the messages to ``status`` now and tell the dispatcher (one event for a
        group; ``shared``: the event says the routing they all share)."""
        now = self.clock.now()
        for message in messages:
            message.change_status(status, now)
        if len(messages) == 1 and not shared:
            self.dispatcher(StatusChanged(messages[0], status, now))
            return
        routing = None
        if shared:
            first = messages[0]
            routing = Routing(
                first.account_id, first.receipt_url, first.client_reference, first.batch_reference
            )
        self.dispatcher(StatusesChanged(list(messages), status, now, routing))

    async def advance(self, milliseconds: int) -> None:
        await self.scheduler.advance(milliseconds)

    async def advance_to(self, offset: int) -> None:
        """Advance until ``START + offset`` (offsets keep the tests readable)."""
        await self.scheduler.advance(START + offset - self.clock.now())

    def offsets(self, posts: Sequence[Post]) -> list[int]:
        return [post.at - START for post in posts]

    def deliveries(self, **filters: str) -> list[Delivery]:
        return list(self.dispatcher.deliveries(**filters))


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test in its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run
