"""Delivery receipts and replies POSTed to customers' URLs: batched, ordered, retried until 200.

The dispatcher subscribes to domain events and coordinates the parts, each in its own
module: ``batching`` groups the receipts of one ``batchWindow`` by URL into POSTs of at
most ``maxBatch`` (replies go one per POST); ``ordering`` makes a delivery carrying a
receipt for a message wait for earlier ones carrying the same message; ``retry`` makes
one attempt and says when the next comes; ``registry`` keeps every delivery for
``GET /_mock/webhooks``; ``lanes`` bounds how many POSTs run at once. Every attempt is
a scheduler event on the mock clock, so backoff and ``maxAge`` follow virtual time.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any

import orjson

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.deliveries import Attempt, Delivery, DeliveryState
from mock_puresms.domain.events import (
    Event,
    ReplyReceived,
    StatusChanged,
    StatusesChanged,
    WebhookAttempted,
)
from mock_puresms.domain.messages import Message, new_reference
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.urls import is_control_surface_url
from mock_puresms.settings import WebhookTuning
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.webhooks.attempt_log import attempt_ended
from mock_puresms.webhooks.batching import AccountLookup, ReceiptBatcher
from mock_puresms.webhooks.lanes import MAX_CONCURRENT_POSTS, MAX_CONCURRENT_POSTS_PER_URL, Lanes
from mock_puresms.webhooks.ordering import STALE_LIMIT, Ordering
from mock_puresms.webhooks.registry import DeliveryRegistry
from mock_puresms.webhooks.retry import next_attempt_at, post_once
from mock_puresms.webhooks.sender import AiohttpSender, WebhookSender

log = logging.getLogger("mock_puresms.webhooks")

# The error of an attempt the dispatcher refuses to make (see ``_targets_self``).
NOT_SENT_TO_SELF = (
    "not sent: the URL points at this mock's own control surface (/_mock), which never "
    "takes webhooks"
)


SaveDeliveries = Callable[[Sequence[Delivery], Sequence[tuple[str, int]]], Awaitable[None]]
RenderReply = Callable[[Reply], dict[str, Any]]

# The ordering maps' sweep threshold (see ``ordering.STALE_LIMIT``), read when a
# dispatcher is made: tests lower it here to sweep at every POST.
_STALE_LIMIT = STALE_LIMIT


class WebhookDispatcher:
    """Turns receipts and replies into deliveries and attempts them until received."""

    def __init__(
        self,
        scheduler: Scheduler,
        accounts: AccountLookup,
        tuning: WebhookTuning,
        render_reply: RenderReply,
        save: SaveDeliveries,
        *,
        durable: bool = False,
        sender: WebhookSender | None = None,
        publish: Callable[[Event], None] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._get_account = accounts
        self._render_reply = render_reply
        self._save = save
        self._durable = durable
        self._tuning = tuning
        self._sender = sender if sender is not None else AiohttpSender()
        self._publish = publish
        self._registry = DeliveryRegistry()
        self._batcher = ReceiptBatcher(tuning.batch_window_ms, tuning.max_batch, durable=durable)
        self._ordering = Ordering(tuning.max_batch, stale_limit=_STALE_LIMIT)
        self._lanes: Lanes[tuple[Delivery, int, int]] = Lanes(
            self._run_attempt, MAX_CONCURRENT_POSTS_PER_URL, MAX_CONCURRENT_POSTS
        )
        # Bumped by a full reset: flushes and attempts scheduled before it do nothing.
        self._generation = 0
        # Where the server listens (``listening_on``), so a POST never targets /_mock.
        self._listening: tuple[tuple[str, int], ...] = ()
        self._self_checks: dict[str, bool] = {}
        scheduler.add_settler(self.settle)

    # -- events ---------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if type(event) is StatusesChanged:
            due = self._batcher.owe(event.messages, event.status, event.at, event.routing)
        elif type(event) is StatusChanged:
            due = self._batcher.owe((event.message,), event.status, event.at)
        elif isinstance(event, ReplyReceived):
            self._scheduler.at(event.reply.received_at, partial(self._send_reply, event))
            return
        else:
            return
        if due is not None:
            self._scheduler.at(due, partial(self._flush, self._generation))

    async def _account(self, account_id: str) -> Account | None:
        return await self._get_account(account_id)

    async def _flush(self, generation: int, due: int) -> None:
        """Turn the receipts of one batch window into deliveries and schedule them."""
        if generation != self._generation:
            return
        owed = self._batcher.take()
        by_url = await self._batcher.by_url(owed, self._account)
        created: list[Delivery] = []
        for (account_id, url), runs in by_url.items():
            deliveries = self._batcher.deliveries(account_id, url, runs, due)
            self._registry.add_all(deliveries)
            # One run holds each message once (an event's messages are distinct).
            self._ordering.add_all(url, deliveries, distinct=len(runs) == 1)
            created.extend(deliveries)
        # One unit: the deliveries exist exactly when their receipts stop being owed.
        await self._save(created, self._batcher.consumed(owed))
        for delivery in created:
            self._schedule_attempt(delivery, due)

    async def _send_reply(self, event: ReplyReceived, due: int) -> None:
        reply = event.reply
        account = await self._account(reply.account_id)
        url = account.webhooks.reply_url if account is not None else None
        if url is None:
            return
        body = orjson.dumps(self._render_reply(reply))
        delivery = Delivery(new_reference("WH"), reply.account_id, url, "reply", body, due)
        delivery.next_attempt_at = due
        self._registry.add(delivery)
        self._ordering.add(delivery)  # carries no receipt: only counted as unfinished
        await self._save([delivery], ())
        self._schedule_attempt(delivery, due)

    # -- attempts -------------------------------------------------------------------

    def _schedule_attempt(self, delivery: Delivery, at: int) -> None:
        delivery.next_attempt_at = at
        self._scheduler.at(at, partial(self._start_attempt, delivery, self._generation))

    def _start_attempt(self, delivery: Delivery, generation: int, due: int) -> None:
        if generation != self._generation or delivery.finished:
            return
        if self._ordering.holds(delivery):
            return  # resumed when the last delivery it waits for finishes
        self._lanes.put(delivery.url, (delivery, due, generation))

    async def _run_attempt(self, job: tuple[Delivery, int, int]) -> None:
        delivery, due, generation = job
        # Reset, or finished by an account reset, while it waited in its lane.
        if generation == self._generation and not delivery.finished:
            await self._attempt(delivery, due, generation)

    async def _attempt(self, delivery: Delivery, due: int, generation: int) -> None:
        refused = self._targets_self(delivery.url)
        if refused:
            # A webhook to the mock's own /_mock would let any API key reset every
            # account, or loop a reply into a reply for ever: never sent, never retried.
            attempt = Attempt(due, None, NOT_SENT_TO_SELF, 0.0)
        else:
            account = await self._account(delivery.account_id)
            secret = account.webhooks.secret if account is not None else None
            attempt = await post_once(self._sender, delivery, secret, self._tuning.timeout_ms, due)
        if generation != self._generation:
            return
        delivery.attempts.append(attempt)
        if self._publish is not None:
            self._publish(WebhookAttempted(delivery.id, delivery.url, len(delivery.attempts)))
        if attempt.status == 200:
            attempt_ended(delivery, attempt, None, due)
            self._finish(delivery, "delivered")
        elif refused:
            self._finish(delivery, "failed")
        else:
            now = self._scheduler.clock.now()
            retry_at = next_attempt_at(self._tuning, delivery, due, now)
            attempt_ended(delivery, attempt, retry_at, now)
            if retry_at is None:
                self._finish(delivery, "failed")
            else:
                self._schedule_attempt(delivery, retry_at)
        if self._durable:  # the memory store holds nothing of its own to update
            await self._save([delivery], ())

    def _finish(self, delivery: Delivery, state: DeliveryState) -> None:
        was_unfinished = not delivery.finished
        delivery.state = state
        delivery.next_attempt_at = None
        released = self._ordering.finished(delivery, was_unfinished=was_unfinished)
        if released:
            now = self._scheduler.clock.now()
            for dependent in released:
                self._schedule_attempt(dependent, max(now, dependent.next_attempt_at or now))

    # -- restart ---------------------------------------------------------------------

    def resume(
        self, receipts: Sequence[tuple[Message, int]], deliveries: Sequence[Delivery]
    ) -> None:
        """Carry on after a restart: owed receipts and unfinished deliveries, in order."""
        now = self._scheduler.clock.now()
        for delivery in deliveries:
            self._registry.add(delivery)
            if delivery.finished:
                continue  # kept for GET /_mock/webhooks, nothing left to send
            self._ordering.add(delivery)
            due = delivery.next_attempt_at if delivery.next_attempt_at is not None else now
            self._schedule_attempt(delivery, due)
        flush_at = self._batcher.owe_again(receipts, now)
        if flush_at is not None:
            self._scheduler.at(flush_at, partial(self._flush, self._generation))

    # -- the server's own address ------------------------------------------------------

    def listening_on(self, addresses: Sequence[tuple[str, int]]) -> None:
        """The ``(host, port)`` pairs the server listens on: POSTs to its ``/_mock``
        there are refused without being sent."""
        self._listening = tuple(addresses)
        self._self_checks.clear()

    def _targets_self(self, url: str) -> bool:
        if not self._listening:
            return False
        known = self._self_checks.get(url)
        if known is None:
            known = is_control_surface_url(url, self._listening, (socket.gethostname(),))
            if len(self._self_checks) >= 10_000:  # a bounded memo: URLs are few in practice
                self._self_checks.clear()
            self._self_checks[url] = known
        return known

    # -- control ---------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for every POST in flight (and those they lead to at the same instant)."""
        await self._lanes.drain()

    def deliveries(
        self, url: str | None = None, state: str | None = None, account_id: str | None = None
    ) -> Iterable[Delivery]:
        """Every delivery, newest first, filtered."""
        return self._registry.listing(url, state, account_id)

    def prune(self, finished_before: int | None, max_deliveries: int | None = None) -> list[str]:
        """Retention: forget finished deliveries created before ``finished_before``, and
        the oldest finished ones beyond ``max_deliveries``."""
        return self._registry.prune(finished_before, max_deliveries)

    def reset(self, account_id: str | None = None) -> None:
        """Forget deliveries (of one account, or all) and stop their retries."""
        if account_id is None:
            self._generation += 1
            self._lanes.clear()
            self._registry.clear()
            self._batcher.clear()
            self._ordering.clear()
            return
        for delivery in self._registry.of_account(account_id):
            self._finish(delivery, "failed")  # stops its retries and unblocks others
            self._registry.remove(delivery)
        self._batcher.drop_account(account_id)

    async def close(self) -> None:
        await self._lanes.close()
        await self._sender.close()
