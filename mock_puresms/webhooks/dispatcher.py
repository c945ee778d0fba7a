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

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, repeat
from operator import attrgetter
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
from mock_puresms.domain.messages import Message, Routing, new_reference, new_references
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.settings import WebhookTuning
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.webhooks.lanes import MAX_CONCURRENT_POSTS, MAX_CONCURRENT_POSTS_PER_URL, Lanes
from mock_puresms.webhooks.receipts import ReceiptRun, spans
from mock_puresms.webhooks.sender import AiohttpSender, DeliveryFailed, WebhookSender
from mock_puresms.webhooks.signing import signature

log = logging.getLogger("mock_puresms.webhooks")


AccountLookup = Callable[[str], Awaitable[Account | None]]
SaveDeliveries = Callable[[Sequence[Delivery], Sequence[tuple[str, int]]], Awaitable[None]]
RenderReply = Callable[[Reply], dict[str, Any]]


@dataclass(slots=True)
class _Receipts:
    """The receipts of messages that changed to one status together (one event)."""

    messages: Sequence[Message]
    status: DeliveryStatus
    # Each change's index in its message's history: what a durable store owes.
    positions: list[int] | None
    routing: Routing | None = None  # when the event said what they all share


_REFERENCE = attrgetter("reference")
_REFERENCES = attrgetter("references")
_ROUTE = attrgetter("account_id", "receipt_url", "client_reference", "batch_reference")
_HISTORY = attrgetter("history")


# How many references to finished deliveries a URL's ordering map may hold, beyond what
# its unfinished deliveries could account for, before they are swept out.
_STALE_LIMIT = 100_000


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
        self._pending_receipts: list[_Receipts] = []
        self._flush_due: int | None = None
        # Per URL, the newest delivery per message reference, for ordering, and how
        # many deliveries to it are unfinished.
        self._latest: dict[str, dict[str, Delivery]] = {}
        self._unfinished: dict[str, int] = {}
        # Deliveries not yet in their URL's ordering map, in order: it is only built
        # once a later delivery to the URL comes while some of them are unfinished.
        self._unindexed: dict[str, list[Delivery]] = {}
        self._lanes: Lanes[tuple[Delivery, int, int]] = Lanes(
            self._run_attempt, MAX_CONCURRENT_POSTS_PER_URL, MAX_CONCURRENT_POSTS
        )
        self._generation = 0
        scheduler.add_settler(self.settle)

    # -- events ---------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if type(event) is StatusesChanged:
            self._owe(event.messages, event.status, event.at, event.routing)
        elif type(event) is StatusChanged:
            self._owe((event.message,), event.status, event.at)
        elif isinstance(event, ReplyReceived):
            self._scheduler.at(event.reply.received_at, partial(self._send_reply, event))

    def _owe(
        self,
        messages: Sequence[Message],
        status: DeliveryStatus,
        at: int,
        routing: Routing | None = None,
    ) -> None:
        positions = None
        if self._durable:
            positions = [length - 1 for length in map(len, map(_HISTORY, messages))]
        self._pending_receipts.append(_Receipts(messages, status, positions, routing))
        if self._flush_due is None:
            self._flush_due = at + self._tuning.batch_window_ms
            self._scheduler.at(self._flush_due, partial(self._flush, self._generation))

    async def _account(self, account_id: str) -> Account | None:
        return await self._get_account(account_id)

    async def _flush(self, generation: int, due: int) -> None:
        """Group the receipts of one batch window by URL into deliveries."""
        if generation != self._generation:
            return
        owed, self._pending_receipts = self._pending_receipts, []
        self._flush_due = None
        defaults: dict[str, str | None] = {}

        async def default_url(account_id: str) -> str | None:
            if account_id not in defaults:
                account = await self._account(account_id)
                defaults[account_id] = account.webhooks.delivery_receipt_url if account else None
            return defaults[account_id]

        # Per (account, URL), runs of messages that changed to one status, in order.
        by_url: dict[tuple[str, str], list[ReceiptRun]] = {}
        for receipts in owed:
            messages, status = receipts.messages, receipts.status
            # What they share, if the event did not say: one C-level pass, not one per field.
            routes = {receipts.routing} if receipts.routing else set(map(_ROUTE, messages))
            if len(routes) == 1:
                ((account_id, receipt_url, client_reference, _),) = routes
                url = receipt_url or await default_url(account_id)
                if url is not None:
                    plain = client_reference is None
                    run = ReceiptRun(messages, status, plain=plain)
                    by_url.setdefault((account_id, url), []).append(run)
                continue
            split: dict[tuple[str, str], list[Message]] = {}
            for message in messages:
                url = message.receipt_url or await default_url(message.account_id)
                if url is not None:
                    split.setdefault((message.account_id, url), []).append(message)
            for key, some in split.items():
                by_url.setdefault(key, []).append(ReceiptRun(some, status))
        created: list[Delivery] = []
        for (account_id, url), runs in by_url.items():
            created.extend(self._add_receipts(account_id, url, runs, due))
        flushed: list[tuple[str, int]] = []
        if self._durable:
            for receipts in owed:
                assert receipts.positions is not None
                flushed.extend(
                    zip(map(_REFERENCE, receipts.messages), receipts.positions, strict=True)
                )
        # One unit: the deliveries exist exactly when their receipts stop being owed.
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
        delivery = self._add_reply(reply.account_id, url, body, due)
        await self._save([delivery], ())
        self._schedule_attempt(delivery, due)

    # -- deliveries -----------------------------------------------------------------

    def _add_receipts(
        self,
        account_id: str,
        url: str,
        runs: list[ReceiptRun],
        now: int,
    ) -> list[Delivery]:
        """One URL's runs of receipts as deliveries of at most ``maxBatch`` each."""
        chunks = list(spans([len(run.references) for run in runs], self._tuning.max_batch))
        deliveries: list[Delivery] = []
        for delivery_id, chunk in zip(new_references("WH", len(chunks)), chunks, strict=True):
            if len(chunk) == 1:
                ((run, start, stop),) = chunk
                body = b"[" + runs[run].entries(start, stop) + b"]"
                references = tuple(runs[run].references[start:stop])
            else:
                body = b"[" + b",".join(runs[r].entries(a, b) for r, a, b in chunk) + b"]"
                references = tuple(
                    chain.from_iterable(runs[r].references[a:b] for r, a, b in chunk)
                )
            deliveries.append(
                Delivery(
                    id=delivery_id,
                    account_id=account_id,
                    url=url,
                    kind="receipts",
                    body=body,
                    created_at=now,
                    references=references,
                    next_attempt_at=now,
                )
            )
        self._deliveries.update((delivery.id, delivery) for delivery in deliveries)
        # One run holds each message once (an event's messages are distinct).
        self._order_all_after_earlier(url, deliveries, distinct=len(runs) == 1)
        return deliveries

    def _add_reply(self, account_id: str, url: str, body: bytes, now: int) -> Delivery:
        delivery = Delivery(new_reference("WH"), account_id, url, "reply", body, now)
        delivery.next_attempt_at = now
        self._deliveries[delivery.id] = delivery
        self._order_after_earlier(delivery)  # carries no receipt: only counted as unfinished
        return delivery

    def _order_all_after_earlier(
        self, url: str, deliveries: list[Delivery], *, distinct: bool = False
    ) -> None:
        """``_order_after_earlier`` for one flush's deliveries to ``url``, in order.

        Usually no message among them has another receipt on its way: then nothing
        waits. When nothing to the URL is unfinished and no message comes twice
        (``distinct``), the ordering map is not even built until it is needed;
        otherwise it takes them all in one C-level update.
        """
        if distinct and not self._unfinished.get(url):
            self._unfinished[url] = len(deliveries)
            self._unindexed[url] = deliveries
            return
        references = list(chain.from_iterable(map(_REFERENCES, deliveries)))
        owners = dict(
            zip(
                references,
                chain.from_iterable(repeat(d, len(d.references)) for d in deliveries),
                strict=True,
            )
        )
        latest = self._indexed(url)
        if len(owners) < len(references) or (latest and not latest.keys().isdisjoint(owners)):
            for delivery in deliveries:
                self._order_after_earlier(delivery)
            return
        unfinished = self._unfinished[url] = self._unfinished.get(url, 0) + len(deliveries)
        if latest is None:
            self._latest[url] = owners
            return
        if len(latest) > _STALE_LIMIT + 2 * unfinished * self._tuning.max_batch:
            latest = self._latest[url] = {r: d for r, d in latest.items() if not d.finished}
        latest.update(owners)

    def _indexed(self, url: str) -> dict[str, Delivery] | None:
        """The URL's ordering map (newest delivery per reference), brought up to date."""
        waiting = self._unindexed.pop(url, None)
        latest = self._latest.get(url)
        if waiting:
            if latest is None:
                latest = self._latest[url] = {}
            for delivery in waiting:
                latest.update(dict.fromkeys(delivery.references, delivery))
        return latest

    def _order_after_earlier(self, delivery: Delivery) -> None:
        """Make ``delivery`` wait for unfinished deliveries to its URL that carry a
        receipt of one of its messages, and become the newest for its messages."""
        url = delivery.url
        latest = self._indexed(url)
        if latest is None:
            latest = self._latest[url] = {}
        self._unfinished[url] = self._unfinished.get(url, 0) + 1
        live_bound = 2 * self._unfinished[url] * self._tuning.max_batch
        if len(latest) > _STALE_LIMIT + live_bound:
            # A URL that never drains: forget the finished ones now and then.
            latest = self._latest[url] = {r: d for r, d in latest.items() if not d.finished}
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
        self._lanes.put(delivery.url, (delivery, due, generation))

    async def _run_attempt(self, job: tuple[Delivery, int, int]) -> None:
        delivery, due, generation = job
        # Reset, or finished by an account reset, while it waited in its lane.
        if generation == self._generation and not delivery.finished:
            await self._attempt(delivery, due, generation)

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
        if self._durable:  # the memory store holds nothing of its own to update
            await self._save([delivery], ())

    def _finish(self, delivery: Delivery, state: DeliveryState) -> None:
        was_unfinished = not delivery.finished
        delivery.state = state
        delivery.next_attempt_at = None
        # ``_latest`` keeps finished deliveries (ordering skips them): forgetting them
        # one reference at a time would cost more than the POST. The URL's map is
        # dropped whole once nothing bound there is unfinished.
        unfinished = self._unfinished.get(delivery.url, 0) - was_unfinished
        if unfinished > 0:
            self._unfinished[delivery.url] = unfinished
        else:
            self._unfinished.pop(delivery.url, None)
            self._latest.pop(delivery.url, None)
            self._unindexed.pop(delivery.url, None)
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
            self._pending_receipts.append(_Receipts((message,), status, [position]))
        if self._pending_receipts and self._flush_due is None:
            self._flush_due = now
            self._scheduler.at(now, partial(self._flush, self._generation))

    # -- control ---------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for every POST in flight (and those they lead to at the same instant)."""
        await self._lanes.drain()

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
            self._lanes.clear()
            self._deliveries.clear()
            self._pending_receipts.clear()
            self._latest.clear()
            self._unfinished.clear()
            self._unindexed.clear()
            self._flush_due = None
            return
        for delivery in list(self._deliveries.values()):
            if delivery.account_id == account_id:
                self._finish(delivery, "failed")  # stops its retries and unblocks others
                del self._deliveries[delivery.id]
        kept: list[_Receipts] = []
        for receipts in self._pending_receipts:
            indexes = [i for i, m in enumerate(receipts.messages) if m.account_id != account_id]
            if len(indexes) == len(receipts.messages):
                kept.append(receipts)
            elif indexes:
                positions = receipts.positions
                kept.append(
                    _Receipts(
                        [receipts.messages[i] for i in indexes],
                        receipts.status,
                        [positions[i] for i in indexes] if positions is not None else None,
                        receipts.routing,
                    )
                )
        self._pending_receipts = kept

    async def close(self) -> None:
        await self._lanes.close()
        await self._sender.close()
