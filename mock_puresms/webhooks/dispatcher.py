"""Delivery receipts and replies POSTed to customers' URLs: batched, ordered, retried until 200.

The dispatcher subscribes to domain events and coordinates the parts, each in its own
module: ``batching`` groups the receipts of one ``batchWindow`` by URL into POSTs of at
most ``maxBatch`` (replies go one per POST); ``ordering`` makes a delivery carrying a
receipt for a message wait for earlier ones carrying the same message; ``retry`` makes
one attempt and says when the next comes; ``registry`` keeps every delivery for
``GET /_mock/webhooks``; ``lanes`` bounds how many POSTs run at once. Every attempt is
a scheduler event on the mock clock, so backoff and ``maxAge`` follow virtual time.

Messages of the current API and every reply also become Connect events (API.md 9.5),
one per POST per endpoint (``connect_events``): they skip the batcher, which serves v1
receipts, and share ordering, retry, registry and lanes. A Connect delivery counts any
2xx, has its own timeout, and counts towards its endpoint's ``disableAfter``.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from operator import attrgetter
from typing import Any

import orjson

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.connect_status import connect_status
from mock_puresms.domain.deliveries import Attempt, Delivery, DeliveryKind, DeliveryState
from mock_puresms.domain.endpoints import INBOUND_EVENT, RECEIPT_EVENT, Endpoint
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.events import (
    Event,
    ReplyReceived,
    StatusChanged,
    StatusesChanged,
    WebhookAttempted,
)
from mock_puresms.domain.messages import CONNECT, Message, new_reference
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.reports import Pricing
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.urls import is_control_surface_url
from mock_puresms.settings import WebhookTuning
from mock_puresms.simulation.scenarios.chaos import DUPLICATE
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.webhooks.attempt_log import attempt_ended
from mock_puresms.webhooks.batching import AccountLookup, ReceiptBatcher
from mock_puresms.webhooks.chaos import ScenarioChaos, WebhookChaosState
from mock_puresms.webhooks.connect_events import (
    ReceiptEvent,
    inbound_body,
    receipt_body,
)
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
SaveAccount = Callable[[Account], Awaitable[None]]

_API = attrgetter("api")

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
        save_account: SaveAccount | None = None,
        prices: Pricing | None = None,
        scenario_chaos: ScenarioChaos | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._get_account = accounts
        self._render_reply = render_reply
        self._save = save
        self._durable = durable
        self._tuning = tuning
        self._sender = sender if sender is not None else AiohttpSender()
        self._publish = publish
        self._save_account = save_account
        self._prices = prices if prices is not None else Pricing()
        self._registry = DeliveryRegistry()
        self._batcher = ReceiptBatcher(tuning.batch_window_ms, tuning.max_batch, durable=durable)
        self._ordering = Ordering(tuning.max_batch, stale_limit=_STALE_LIMIT)
        # Chaos on purpose (``chaos.py``): the scenario's section, or the account's own.
        self.chaos = WebhookChaosState(scenario_chaos)
        # A lane job: (delivery, due, generation, whether it is a chaos duplicate).
        self._lanes: Lanes[tuple[Delivery, int, int, bool]] = Lanes(
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
            messages = event.messages
            # Usually one send's messages, of one API; after a restart the simulation
            # may group messages of both APIs (one C-level pass tells).
            apis = set(map(_API, messages))
            if CONNECT in apis:
                connect = [m for m in messages if m.api == CONNECT]
                self._owe_events(connect, event.status, event.at)
                if len(apis) == 1:
                    return
                messages = [m for m in messages if m.api != CONNECT]
            due = self._batcher.owe(messages, event.status, event.at, event.routing)
        elif type(event) is StatusChanged:
            if event.message.api == CONNECT:
                self._owe_events((event.message,), event.status, event.at)
                return
            due = self._batcher.owe((event.message,), event.status, event.at)
        elif isinstance(event, ReplyReceived):
            at = event.reply.received_at
            self._scheduler.at(at, partial(self._send_reply, event))
            self._scheduler.at(at, partial(self._send_inbound, event.reply, self._generation))
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
        await self._schedule_first(created, due)

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
        await self._schedule_first([delivery], due)

    # -- Connect events ---------------------------------------------------------------

    def _owe_events(self, messages: Sequence[Message], status: DeliveryStatus, at: int) -> None:
        """Capture now (the messages move on) the Connect status changes among these:
        a change of the v1 status within one Connect status (Scheduled to Accepted,
        both Queued) is none; a message's first status (created Skipped) is one."""
        changes: list[ReceiptEvent] = []
        for message in messages:
            connect = connect_status(status, message.cancelled)
            history = message.history
            if len(history) >= 2 and connect_status(history[-2].status) is connect:
                continue
            changes.append(ReceiptEvent(message, status, connect, at, uuid.uuid4()))
        if changes:
            self._scheduler.at(at, partial(self._send_receipts, changes, self._generation))

    async def _send_receipts(self, changes: list[ReceiptEvent], generation: int, due: int) -> None:
        if generation != self._generation:
            return
        created: list[Delivery] = []
        for change in changes:
            message = change.message
            account = await self._account(message.account_id)
            for index, endpoint in self._endpoints(account, RECEIPT_EVENT):
                body = receipt_body(change, endpoint.format, self._prices)
                created.append(
                    self._event_delivery(
                        message.account_id, index, endpoint, "connect.receipt", body, due,
                        (message.reference,),
                    )
                )  # fmt: skip
        await self._admit(created, due)

    async def _send_inbound(self, reply: Reply, generation: int, due: int) -> None:
        if generation != self._generation:
            return
        account = await self._account(reply.account_id)
        event = uuid.uuid4()
        created = [
            self._event_delivery(
                reply.account_id, index, endpoint, "connect.inbound",
                inbound_body(reply, event, endpoint.format), due, (),
            )
            for index, endpoint in self._endpoints(account, INBOUND_EVENT)
        ]  # fmt: skip
        await self._admit(created, due)

    @staticmethod
    def _endpoints(account: Account | None, event_type: int) -> list[tuple[int, Endpoint]]:
        if account is None:
            return []
        return [(i, e) for i, e in enumerate(account.endpoints) if e.wants(event_type)]

    @staticmethod
    def _event_delivery(
        account_id: str,
        index: int,
        endpoint: Endpoint,
        kind: DeliveryKind,
        body: bytes,
        due: int,
        references: tuple[str, ...],
    ) -> Delivery:
        delivery = Delivery(
            new_reference("WH"), account_id, endpoint.url, kind, body, due, references,
            next_attempt_at=due, endpoint=index,
        )  # fmt: skip
        if not endpoint.enabled:
            # A disabled endpoint gets nothing: the event is kept as failed, to replay.
            delivery.state = "failed"
            delivery.next_attempt_at = None
        return delivery

    async def _admit(self, created: list[Delivery], due: int) -> None:
        if not created:
            return
        self._registry.add_all(created)
        for delivery in created:
            if not delivery.finished:
                self._ordering.add(delivery)
        await self._save(created, ())
        await self._schedule_first([d for d in created if not d.finished], due)

    @staticmethod
    def _endpoint_of(account: Account | None, delivery: Delivery) -> Endpoint | None:
        """The endpoint a Connect delivery is bound for, unless it has been replaced."""
        index = delivery.endpoint
        if account is None or index is None or index >= len(account.endpoints):
            return None
        endpoint = account.endpoints[index]
        return endpoint if endpoint.url == delivery.url else None

    async def _attempt_event(
        self, delivery: Delivery, account: Account | None, due: int, generation: int
    ) -> None:
        """One attempt of a Connect event: any 2xx counts; failures count towards the
        endpoint's ``disableAfter``, successes reset it."""
        endpoint = self._endpoint_of(account, delivery)
        if endpoint is None or not endpoint.enabled:
            self._finish(delivery, "failed")
            await self._save([delivery], ())
            return
        timeout = self._tuning.connect_timeout_ms
        mark = self.chaos.signature_mark(delivery)
        attempt = await post_once(self._sender, delivery, endpoint.secret, timeout, due, mark)
        if generation != self._generation:
            return
        self._attempted(delivery, attempt)
        failed_too: list[Delivery] = []
        if attempt.status is not None and 200 <= attempt.status < 300:
            changed = endpoint.failures != 0
            endpoint.failures = 0
            attempt_ended(delivery, attempt, None, due, received=True)
            self._finish(delivery, "delivered")
            self._duplicate_later(delivery, due)
        else:
            changed = True
            endpoint.failures += 1
            if endpoint.failures >= self._tuning.disable_after:
                endpoint.enabled = False
                attempt_ended(
                    delivery,
                    attempt,
                    None,
                    self._scheduler.clock.now(),
                    no_retry=f"the endpoint is disabled after {endpoint.failures} failures",
                )
                self._finish(delivery, "failed")
                failed_too = self._fail_endpoint(delivery)
            else:
                now = self._scheduler.clock.now()
                retry_at = next_attempt_at(self._tuning, delivery, due, now)
                attempt_ended(delivery, attempt, retry_at, now)
                if retry_at is None:
                    self._finish(delivery, "failed")
                else:
                    self._schedule_attempt(delivery, retry_at)
        if changed and account is not None and self._save_account is not None:
            await self._save_account(account)
        if self._durable:
            await self._save([delivery, *failed_too], ())

    def _fail_endpoint(self, disabled: Delivery) -> list[Delivery]:
        """The endpoint of ``disabled`` was just disabled: its other unfinished events
        fail now rather than at their next attempt."""
        failed: list[Delivery] = []
        for delivery in self._registry.of_account(disabled.account_id):
            if (
                not delivery.finished
                and delivery.endpoint == disabled.endpoint
                and delivery.url == disabled.url
            ):
                self._finish(delivery, "failed")
                failed.append(delivery)
        return failed

    async def replay(self, delivery_id: str) -> Delivery:
        """Queue a failed delivery again, now; attempt numbering goes on, and backoff
        and ``maxAge`` count from now. ``NotFound``; ``Conflict`` when it has not
        failed, or its Connect endpoint is disabled or gone."""
        delivery = self._registry.get(delivery_id)
        if delivery is None:
            raise NotFound(f"No webhook delivery with id '{delivery_id}'.")
        if delivery.state != "failed":
            raise Conflict(f"Webhook delivery '{delivery_id}' is {delivery.state}, not failed.")
        if delivery.is_connect:
            endpoint = self._endpoint_of(await self._account(delivery.account_id), delivery)
            if endpoint is None:
                raise Conflict(f"The endpoint of webhook delivery '{delivery_id}' is gone.")
            if not endpoint.enabled:
                raise Conflict(
                    f"Endpoint {delivery.endpoint} of the account is disabled: enable it first."
                )
        now = self._scheduler.clock.now()
        delivery.state = "pending"
        delivery.replayed_at = now
        delivery.replayed_after = len(delivery.attempts)
        self._ordering.add(delivery)
        self._schedule_attempt(delivery, now)
        await self._save([delivery], ())
        return delivery

    # -- attempts -------------------------------------------------------------------

    def _schedule_attempt(self, delivery: Delivery, at: int) -> None:
        delivery.next_attempt_at = at
        self._scheduler.at(at, partial(self._start_attempt, delivery, self._generation))

    def _start_attempt(self, delivery: Delivery, generation: int, due: int) -> None:
        if generation != self._generation or delivery.finished:
            return
        if self._ordering.holds(delivery):
            return  # resumed when the last delivery it waits for finishes
        self._lanes.put(delivery.url, (delivery, due, generation, False))

    async def _run_attempt(self, job: tuple[Delivery, int, int, bool]) -> None:
        delivery, due, generation, duplicate = job
        if generation != self._generation:
            return
        if duplicate:
            if self._registry.get(delivery.id) is delivery:  # not forgotten by a reset
                await self._send_duplicate(delivery, due)
        # Reset, or finished by an account reset, while it waited in its lane.
        elif not delivery.finished:
            await self._attempt(delivery, due, generation)

    async def _attempt(self, delivery: Delivery, due: int, generation: int) -> None:
        refused = self._targets_self(delivery.url)
        if refused:
            # A webhook to the mock's own /_mock would let any API key reset every
            # account, or loop a reply into a reply for ever: never sent, never retried.
            attempt = Attempt(due, None, NOT_SENT_TO_SELF, 0.0)
        else:
            account = await self._account(delivery.account_id)
            if delivery.is_connect:
                await self._attempt_event(delivery, account, due, generation)
                return
            secret = account.webhooks.secret if account is not None else None
            mark = self.chaos.signature_mark(delivery)
            timeout = self._tuning.timeout_ms
            attempt = await post_once(self._sender, delivery, secret, timeout, due, mark)
        if generation != self._generation:
            return
        self._attempted(delivery, attempt)
        if attempt.status == 200:
            attempt_ended(delivery, attempt, None, due)
            self._finish(delivery, "delivered")
            self._duplicate_later(delivery, due)
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

    def _attempted(self, delivery: Delivery, attempt: Attempt) -> None:
        """Record an attempt, tell the event stream, and release the reordered POSTs it
        overtook (they go right after it)."""
        if delivery.chaos and not delivery.attempts:
            attempt.chaos = self.chaos.timing_kinds(delivery) + attempt.chaos
        delivery.attempts.append(attempt)
        if self._publish is not None:
            self._publish(
                WebhookAttempted(delivery.id, delivery.url, len(delivery.attempts), attempt.chaos)
            )
        for overtaken in self.chaos.overtaken(delivery):
            self._schedule_attempt(overtaken, self._scheduler.clock.now())

    # -- chaos on purpose (``chaos.py``) ----------------------------------------------

    async def _schedule_first(self, deliveries: Sequence[Delivery], due: int) -> None:
        """Schedule new deliveries' first attempts, after the chaos in force (if any)
        chose what to do to each: delay it, or hold it to be overtaken."""
        chaos = self.chaos
        for delivery in deliveries:
            if not chaos.active(delivery.account_id):
                self._schedule_attempt(delivery, due)
                continue
            account = await self._account(delivery.account_id)
            first = chaos.plan(delivery, signed=bool(self._secret_of(account, delivery)))
            if not first.held:
                self._schedule_attempt(delivery, due + first.delay_ms)
                continue
            delivery.next_attempt_at = due + first.delay_ms
            release = partial(self._release_held, delivery, self._generation)
            self._scheduler.at(due + first.delay_ms, release)

    def _release_held(self, delivery: Delivery, generation: int, due: int) -> None:
        """A reordered delivery nothing overtook within its ``within`` goes now."""
        if self.chaos.timed_out(delivery):
            self._start_attempt(delivery, generation, due)

    def _secret_of(self, account: Account | None, delivery: Delivery) -> str | None:
        if delivery.is_connect:
            endpoint = self._endpoint_of(account, delivery)
            return endpoint.secret if endpoint is not None else None
        return account.webhooks.secret if account is not None else None

    def _duplicate_later(self, delivery: Delivery, due: int) -> None:
        after = self.chaos.duplicate_after(delivery)
        if after is not None:
            job = (delivery, due + after, self._generation, True)
            self._scheduler.at(due + after, lambda at: self._lanes.put(delivery.url, job))

    async def _send_duplicate(self, delivery: Delivery, due: int) -> None:
        """The same POST once more (same delivery id and body), recorded as an attempt
        marked ``duplicate``; its answer changes nothing."""
        account = await self._account(delivery.account_id)
        if delivery.is_connect and self._endpoint_of(account, delivery) is None:
            return  # its endpoint was replaced: nowhere to send it
        secret = self._secret_of(account, delivery)
        tuning = self._tuning
        timeout = tuning.connect_timeout_ms if delivery.is_connect else tuning.timeout_ms
        attempt = await post_once(self._sender, delivery, secret, timeout, due)
        attempt.chaos = (DUPLICATE,)
        self._attempted(delivery, attempt)
        if self._durable:
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
            self.chaos.reset()
            return
        self.chaos.reset(account_id)
        for delivery in self._registry.of_account(account_id):
            self._finish(delivery, "failed")  # stops its retries and unblocks others
            self._registry.remove(delivery)
        self._batcher.drop_account(account_id)

    async def close(self) -> None:
        await self._lanes.close()
        await self._sender.close()
