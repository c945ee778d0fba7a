"""Delivery receipts and replies POSTed to customers' URLs: batched, signed, retried until 200.

The dispatcher subscribes to domain events. Receipts that fall ready within one
``batchWindow`` are grouped by URL into POSTs of at most ``maxBatch``; replies go one
per POST. Every attempt is a scheduler event on the mock clock, so backoff and
``maxAge`` follow virtual time, while each POST's timeout is wall time (it is about the
network). A delivery that carries a receipt for a message waits until every earlier
delivery carrying one for the same message (to the same URL) has finished, so a
receiver never sees a later status before an earlier one, even across retries.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.deliveries import Attempt, Delivery, DeliveryKind, DeliveryState
from mock_puresms.domain.events import Event, ReplyReceived, StatusChanged, WebhookAttempted
from mock_puresms.domain.messages import Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.settings import WebhookTuning
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.webhooks.sender import AiohttpSender, DeliveryFailed, WebhookSender
from mock_puresms.webhooks.signing import signature

log = logging.getLogger("mock_puresms.webhooks")


AccountLookup = Callable[[str], Awaitable[Account | None]]
SaveDeliveries = Callable[[Sequence[Delivery], Sequence[tuple[str, int]]], Awaitable[None]]
RenderReply = Callable[[Reply], dict[str, Any]]


@dataclass(slots=True)
class _Receipt:
    message: Message
    status: DeliveryStatus
    position: int  # the index of the status change in the message's history


def backoff_ms(tuning: WebhookTuning, failed_attempts: int) -> int:
    """Wait before the next attempt: ``firstRetry`` doubling, at most ``maxInterval``."""
    exponent = min(failed_attempts - 1, 40)
    delay: int = min(tuning.first_retry_ms * (2**exponent), tuning.max_interval_ms)
    return delay


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
        # Only a durable store needs told which owed receipts a flush consumed.
        self._durable = durable
        self._tuning = tuning
        self._sender = sender if sender is not None else AiohttpSender()
        self._publish = publish
        self._deliveries: dict[str, Delivery] = {}
        self._pending_receipts: list[_Receipt] = []
        self._flush_due: int | None = None
        # Per URL, the newest unfinished delivery per message reference, for ordering.
        self._latest: dict[str, dict[str, Delivery]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._generation = 0
        scheduler.add_settler(self.settle)

    # -- events ---------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if type(event) is StatusChanged:
            message = event.message
            self._pending_receipts.append(_Receipt(message, event.status, len(message.history) - 1))
            if self._flush_due is None:
                self._flush_due = event.at + self._tuning.batch_window_ms
                self._scheduler.at(self._flush_due, partial(self._flush, self._generation))
        elif isinstance(event, ReplyReceived):
            self._scheduler.at(event.reply.received_at, partial(self._send_reply, event))

    async def _account(self, account_id: str) -> Account | None:
        return await self._get_account(account_id)

    async def _flush(self, generation: int, due: int) -> None:
        """Group the receipts of one batch window by URL into deliveries."""
        if generation != self._generation:
            return
        receipts, self._pending_receipts = self._pending_receipts, []
        self._flush_due = None
        defaults: dict[str, str | None] = {}
        by_url: dict[tuple[str, str], list[_Receipt]] = {}
        for receipt in receipts:
            message = receipt.message
            url = message.receipt_url
            if url is None:
                if message.account_id not in defaults:
                    account = await self._account(message.account_id)
                    defaults[message.account_id] = (
                        account.webhooks.delivery_receipt_url if account else None
                    )
                url = defaults[message.account_id]
            if url is not None:
                by_url.setdefault((message.account_id, url), []).append(receipt)
        size = self._tuning.max_batch
        created: list[Delivery] = []
        for (account_id, url), group in by_url.items():
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                body = orjson.dumps(
                    [
                        {
                            "reference": r.message.reference,
                            "clientReference": r.message.client_reference,
                            "batchReference": r.message.batch_reference,
                            "deliveryStatus": r.status,  # an IntEnum: orjson writes the code
                            "additionalMessage": None,
                        }
                        for r in chunk
                    ]
                )
                references = tuple(r.message.reference for r in chunk)
                created.append(self._add(account_id, url, "receipts", body, due, references))
        # One unit: the deliveries exist exactly when their receipts stop being owed.
        flushed = [(r.message.reference, r.position) for r in receipts] if self._durable else []
        await self._save(created, flushed)
        for delivery in created:
            self._schedule_attempt(delivery, due)

    async def _send_reply(self, event: ReplyReceived, due: int) -> None:
        reply = event.reply
        account = await self._account(reply.account_id)
        url = account.webhooks.reply_url if account is not None else None
        if url is None:
            return
        body = orjson.dumps(self._render_reply(reply))
        delivery = self._add(reply.account_id, url, "reply", body, due, ())
        await self._save([delivery], ())
        self._schedule_attempt(delivery, due)

    # -- deliveries -----------------------------------------------------------------

    def _add(
        self,
        account_id: str,
        url: str,
        kind: DeliveryKind,
        body: bytes,
        now: int,
        references: tuple[str, ...],
    ) -> Delivery:
        delivery = Delivery(
            id="WH" + os.urandom(8).hex().upper(),
            account_id=account_id,
            url=url,
            kind=kind,
            body=body,
            created_at=now,
            references=references,
            next_attempt_at=now,
        )
        self._deliveries[delivery.id] = delivery
        self._order_after_earlier(delivery)
        return delivery

    def _order_after_earlier(self, delivery: Delivery) -> None:
        """Make ``delivery`` wait for unfinished deliveries to its URL that carry a
        receipt of one of its messages, and become the newest for its messages."""
        latest = self._latest.setdefault(delivery.url, {})
        # Only references with an earlier delivery need a look (a set operation in C);
        # taken once each, so a POST with two receipts of one message (two changes in
        # one batch window) cannot find itself as the earlier one and wait for ever.
        for reference in latest.keys() & delivery.references:
            earlier = latest[reference]
            if not earlier.finished and earlier not in delivery.blocked_by:
                delivery.blocked_by.add(earlier)
                earlier.dependents.append(delivery)
        latest.update(dict.fromkeys(delivery.references, delivery))

    def _schedule_attempt(self, delivery: Delivery, at: int) -> None:
        delivery.next_attempt_at = at
        self._scheduler.at(at, partial(self._start_attempt, delivery, self._generation))

    def _start_attempt(self, delivery: Delivery, generation: int, due: int) -> None:
        if generation != self._generation or delivery.finished:
            return
        if delivery.blocked_by:
            delivery.waiting = True  # resumed when the last blocker finishes
            return
        task = asyncio.get_running_loop().create_task(self._attempt(delivery, due, generation))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _headers(self, delivery: Delivery) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "mock-puresms-webhooks",
            "X-Mock-Delivery-Id": delivery.id,
            "X-Mock-Attempt": str(len(delivery.attempts) + 1),
        }
        account = await self._account(delivery.account_id)
        secret = account.webhooks.secret if account is not None else None
        if secret:
            # Wall time, so receivers that reject stale signatures work on a virtual clock.
            timestamp = int(time.time())
            headers["X-Webhook-Timestamp"] = str(timestamp)
            headers["X-Webhook-Signature"] = signature(secret, timestamp, delivery.body)
        return headers

    async def _attempt(self, delivery: Delivery, due: int, generation: int) -> None:
        status: int | None = None
        error: str | None = None
        headers = await self._headers(delivery)
        started = time.perf_counter()
        try:
            status = await self._sender.post(
                delivery.url, delivery.body, headers, self._tuning.timeout_ms / 1000
            )
        except DeliveryFailed as exc:
            error = str(exc)
        duration = (time.perf_counter() - started) * 1000
        if generation != self._generation:
            return
        delivery.attempts.append(Attempt(due, status, error, round(duration, 3)))
        if self._publish is not None:
            self._publish(WebhookAttempted(delivery.id, delivery.url, len(delivery.attempts)))
        if status == 200:
            self._finish(delivery, "delivered")
        else:
            now = max(due, self._scheduler.clock.now())
            retry_at = now + backoff_ms(self._tuning, len(delivery.attempts))
            if retry_at - delivery.created_at > self._tuning.max_age_ms:
                self._finish(delivery, "failed")
            else:
                self._schedule_attempt(delivery, retry_at)
        await self._save([delivery], ())

    def _finish(self, delivery: Delivery, state: DeliveryState) -> None:
        delivery.state = state
        delivery.next_attempt_at = None
        latest = self._latest.get(delivery.url)
        if latest is not None:
            for reference in delivery.references:
                if latest.get(reference) is delivery:
                    del latest[reference]
            if not latest:
                del self._latest[delivery.url]
        now = self._scheduler.clock.now()
        for dependent in delivery.dependents:
            dependent.blocked_by.discard(delivery)
            if not dependent.blocked_by and dependent.waiting:
                dependent.waiting = False
                self._schedule_attempt(dependent, max(now, dependent.next_attempt_at or now))
        delivery.dependents.clear()

    # -- restart ---------------------------------------------------------------------

    def resume(
        self, receipts: Sequence[tuple[Message, int]], deliveries: Sequence[Delivery]
    ) -> None:
        """Carry on after a restart: owed receipts and unfinished deliveries, in order."""
        now = self._scheduler.clock.now()
        for delivery in deliveries:
            self._deliveries[delivery.id] = delivery
            if delivery.finished:
                continue  # kept for GET /_mock/webhooks, nothing left to send
            self._order_after_earlier(delivery)
            due = delivery.next_attempt_at if delivery.next_attempt_at is not None else now
            self._schedule_attempt(delivery, due)
        for message, position in receipts:
            status = message.history[position].status
            self._pending_receipts.append(_Receipt(message, status, position))
        if self._pending_receipts and self._flush_due is None:
            self._flush_due = now
            self._scheduler.at(now, partial(self._flush, self._generation))

    # -- control ---------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for every POST in flight (and those they lead to at the same instant)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def deliveries(
        self, url: str | None = None, state: str | None = None, account_id: str | None = None
    ) -> Iterable[Delivery]:
        """Every delivery, newest first, filtered."""
        for delivery in reversed(self._deliveries.values()):
            if (
                (url is None or delivery.url == url)
                and (state is None or delivery.state == state)
                and (account_id is None or delivery.account_id == account_id)
            ):
                yield delivery

    def prune(self, finished_before: int) -> list[str]:
        """Retention: forget finished deliveries created before ``finished_before``."""
        gone = [
            d.id for d in self._deliveries.values() if d.finished and d.created_at < finished_before
        ]
        for delivery_id in gone:
            del self._deliveries[delivery_id]
        return gone

    def reset(self, account_id: str | None = None) -> None:
        """Forget deliveries (of one account, or all) and stop their retries."""
        if account_id is None:
            self._generation += 1
            self._deliveries.clear()
            self._pending_receipts.clear()
            self._latest.clear()
            self._flush_due = None
            return
        for delivery in list(self._deliveries.values()):
            if delivery.account_id == account_id:
                self._finish(delivery, "failed")  # stops its retries and unblocks others
                del self._deliveries[delivery.id]
        self._pending_receipts = [
            r for r in self._pending_receipts if r.message.account_id != account_id
        ]

    async def close(self) -> None:
        for task in list(self._in_flight):
            task.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._sender.close()
