"""Sending, cancelling and changing the status of messages: the rules of section 3."""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, is_
from typing import NamedTuple

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.events import EventBus, MessagesCreated, StatusChanged, StatusesChanged
from mock_puresms.domain.messages import (
    CONNECT,
    V1,
    HistoryEntry,
    Message,
    PlannedStep,
    Routing,
    build_message,
    build_messages,
    new_entry,
    new_ids,
    new_reference,
    new_references,
)
from mock_puresms.domain.ports import MessageStore
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus


class OutboundSms(NamedTuple):
    """One validated message of a send request, batch fallbacks already applied."""

    to: str
    sender: str
    content: str
    encoding: str
    segments: int
    client_reference: str | None = None
    receipt_url: str | None = None
    client_tag: str | None = None


@dataclass(slots=True)
class Outbound:
    """The validated messages of one send request, as one list per field.

    Columns rather than one object per message: a bulk send carries 15,000 messages,
    and columns let validation, planning and ``Message`` creation run as C-level
    ``map``/``join`` passes instead of Python loops.
    """

    to: list[str]
    sender: list[str]
    content: list[str]
    encoding: list[str]
    segments: list[int]
    client_reference: list[str | None]
    receipt_url: list[str | None]
    # The current API's tags; ``None`` when no message has one (every v1 send).
    client_tag: list[str | None] | None = None

    @classmethod
    def of(cls, items: Sequence[OutboundSms]) -> Outbound:
        """Columns from messages validated one by one."""
        if not items:
            return cls([], [], [], [], [], [], [])
        if len(items) == 1:  # a single send: its columns of one, without the transposing
            [item] = items
            return cls(
                [item.to], [item.sender], [item.content], [item.encoding], [item.segments],
                [item.client_reference], [item.receipt_url],
                None if item.client_tag is None else [item.client_tag],
            )  # fmt: skip
        to, sender, content, encoding, segments, client_reference, receipt_url, tag = map(
            list, zip(*items, strict=True)
        )
        client_tag = tag if tag.count(None) != len(tag) else None  # a C-level pass
        return cls(
            to, sender, content, encoding, segments, client_reference, receipt_url, client_tag
        )

    def __len__(self) -> int:
        return len(self.to)


Steps = tuple[PlannedStep, ...]

_STATUS = attrgetter("status")
_HISTORY = attrgetter("history")


@dataclass(slots=True)
class Draft:
    """A send about to become messages: what the simulation plans their fate from."""

    outbound: Outbound
    is_test: bool
    status: DeliveryStatus  # of every message but the skipped ones
    skipped: frozenset[int]  # indexes of messages to opted-out phones (Skipped)
    created_at: int
    send_at: int | None


@dataclass(slots=True)
class Plans:
    """Each message's plan, by index: steps to come, when the next is due, its reply."""

    pending: list[Steps]
    next_due: list[int | None]
    reply_plan: list[tuple[int, str] | None]

    @classmethod
    def nothing(cls, count: int) -> Plans:
        """No message moves on by itself."""
        return cls([()] * count, [None] * count, [None] * count)


Planner = Callable[[Draft], Plans]


def _shared_routing(
    account: Account, outbound: Outbound, batch_reference: str | None
) -> Routing | None:
    """The send's ``Routing`` when all its messages share one (C-level counts)."""
    if not outbound.to:
        return None
    receipt_url, client_reference = outbound.receipt_url[0], outbound.client_reference[0]
    count = len(outbound)
    if (
        outbound.receipt_url.count(receipt_url) != count
        or outbound.client_reference.count(client_reference) != count
    ):
        return None
    return Routing(account.id, receipt_url, client_reference, batch_reference)


def _grower(entry: HistoryEntry) -> Callable[[tuple[HistoryEntry, ...]], tuple[HistoryEntry, ...]]:
    """``history + (entry,)``, once per distinct history tuple: messages that shared one
    (the sends of one instant, stepped together on the real clock) still share one."""
    grown: dict[int, tuple[HistoryEntry, ...]] = {}

    def grow(history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
        new = grown.get(id(history))  # the old tuples stay alive while this runs
        if new is None:
            new = grown[id(history)] = (*history, entry)
        return new

    return grow


def _shared_senders(senders: list[str]) -> list[str]:
    """The senders, each value one string object for the whole process (``sys.intern``).

    A client sends from one or a few sender names, but every parsed request (and every
    message of a current-API bulk) brings its own copy: kept with each message, the
    copies cost 50 bytes a message. A bulk that shares one object already is left alone.
    """
    if len(senders) > 1 and senders[0] is senders[-1] and senders.count(senders[0]) == len(senders):
        return senders
    return list(map(sys.intern, senders))


def new_batch_reference() -> str:
    return new_reference("B")


class MessageService:
    """Creates messages and moves them between statuses, publishing what happened.

    ``planner`` is the simulation's hook: it decides each new message's fate before
    the message is stored, so the plan is stored with it (``Plans.nothing`` for a mock
    whose messages never move on by themselves).
    """

    def __init__(
        self,
        store: MessageStore,
        events: EventBus,
        now: Callable[[], int],
        planner: Planner,
        *,
        pause: Callable[[], Awaitable[None]] | None = None,
        pause_from: int = 1_000,
    ) -> None:
        self._store = store
        self._events = events
        self._now = now
        self._plan = planner
        # ``pause``: lets the event loop serve other requests between building a send of
        # ``pause_from`` messages or more and storing them, so no request waits for the
        # whole of a large send. Other sends wait until it is stored (``_resumed``): the
        # store keeps messages in the order of their creation times.
        self._pause = pause
        self._pause_from = pause_from
        self._paused = False
        self._resumed = asyncio.Event()
        # The last send's time and first history tuple, reused by the sends of the same
        # instant (many under load): one int and one tuple for all of them instead of
        # one each per message kept, and the simulation can step them as one group.
        self._last_now = 0
        self._last_initial: tuple[HistoryEntry, ...] = ()

    async def send(
        self,
        account: Account,
        outbound: Outbound,
        *,
        is_test: bool,
        batch_reference: str | None = None,
        send_at: int | None = None,
        api: str = V1,
    ) -> list[Message]:
        """Create one message per outbound item, all or none.

        ``api`` is the PureSMS API the send came through: the current one's (``CONNECT``)
        messages have 64-bit ids as references.

        Messages to opted-out phones are created ``Skipped`` and cost nothing; the rest
        cost one credit per segment unless in test mode (``Account.charge``). Raises
        ``InsufficientCredits`` (creating nothing) when the account cannot pay.
        ``account`` is the live account the store keeps (as ``AccountDirectory`` hands
        it out): its balance is debited in place and stored with the messages.
        """
        while self._paused:  # a large send, built, is being stored: after it
            await self._resumed.wait()
        now = self._now()
        if now == self._last_now:
            now = self._last_now  # the same value: keep one object
        count = len(outbound)
        opted_out = await self._store.opted_out(account.id, outbound.to)
        scheduled = send_at is not None and send_at > now
        initial = DeliveryStatus.SCHEDULED if scheduled else DeliveryStatus.ACCEPTED
        statuses = [initial] * count
        first = self._last_initial
        if not first or first[0].at != now or first[0].status is not initial:
            first = (new_entry(HistoryEntry, (initial, now)),)
            self._last_now, self._last_initial = now, first
        histories = [first] * count  # shared: a tuple
        skipped: frozenset[int] = frozenset()
        if opted_out:
            skipped = frozenset(i for i, to in enumerate(outbound.to) if to in opted_out)
            skipped_entry = new_entry(HistoryEntry, (DeliveryStatus.SKIPPED, now))
            for index in skipped:
                statuses[index] = DeliveryStatus.SKIPPED
                histories[index] = (skipped_entry,)
        cost = 0
        if not is_test:
            cost = sum(outbound.segments) - sum(outbound.segments[i] for i in skipped)
        draft = Draft(outbound, is_test, initial, skipped, now, send_at)
        plans = self._plan(draft)
        reference = new_ids(count) if api == CONNECT else new_references("M", count)
        if count == 1:  # a single send: its one value per field, without column iterators
            messages = [
                build_message(
                    reference[0], account.id, outbound.to[0], sys.intern(outbound.sender[0]),
                    outbound.content[0], outbound.encoding[0], outbound.segments[0], is_test,
                    statuses[0], now, outbound.client_reference[0], batch_reference,
                    outbound.receipt_url[0], send_at, histories[0], plans.pending[0],
                    plans.next_due[0], plans.reply_plan[0], api,
                    outbound.client_tag[0] if outbound.client_tag else None, False,
                )
            ]  # fmt: skip
        else:
            messages = build_messages(
                reference=reference,
                account_id=repeat(account.id),
                to=outbound.to,
                sender=_shared_senders(outbound.sender),
                content=outbound.content,
                encoding=outbound.encoding,
                segments=outbound.segments,
                is_test=repeat(is_test),
                status=statuses,
                created_at=repeat(now),
                client_reference=outbound.client_reference,
                batch_reference=repeat(batch_reference),
                receipt_url=outbound.receipt_url,
                send_at=repeat(send_at),
                history=histories,
                pending=plans.pending,
                next_due=plans.next_due,
                reply_plan=plans.reply_plan,
                api=repeat(api),
                client_tag=outbound.client_tag or repeat(None),
                cancelled=repeat(False),
            )
        routing = _shared_routing(account, outbound, batch_reference)
        if self._pause is None or count < self._pause_from:
            return await self._keep(account, messages, cost, routing, skipped, now)
        self._paused = True
        self._resumed.clear()
        try:
            await self._pause()
            return await self._keep(account, messages, cost, routing, skipped, now)
        finally:
            self._paused = False
            self._resumed.set()

    async def _keep(
        self,
        account: Account,
        messages: list[Message],
        cost: int,
        routing: Routing | None,
        skipped: frozenset[int],
        now: int,
    ) -> list[Message]:
        """Charge the send, store its messages and publish them."""
        # The credit rule, applied after planning (a refused send draws from the
        # scenario as it always has) and before the write is awaited; all or nothing.
        debit = account.charge(cost)
        try:
            await self._store.add_messages(messages, debit)
        except BaseException:
            if debit is not None:
                account.refund(debit)
            raise
        self._events.publish(MessagesCreated(messages, routing))
        for index in sorted(skipped):
            # A skipped message produces its one receipt at creation.
            self._events.publish(StatusChanged(messages[index], DeliveryStatus.SKIPPED, now))
        return messages

    async def get(self, account_id: str, reference: str) -> Message:
        message = await self._store.get_message(reference)
        if message is None or message.account_id != account_id:
            raise NotFound(f"No message with reference '{reference}'.")
        return message

    async def save(self, message: Message) -> None:
        """Store a change to a message that is not a status change (its plan)."""
        await self._store.save_messages([message], status_changed=False)

    async def change_status(self, message: Message, status: DeliveryStatus, at: int) -> None:
        """Move a message on outside its plan, which is dropped, and publish the receipt.

        ``Conflict`` if it is final. The dropped plan is stored with the new status, so
        neither the simulation nor a restart carries on with the old script.
        """
        if message.is_final:
            raise Conflict(
                f"Message '{message.reference}' is already {message.status.label} "
                "and a final status never changes."
            )
        message.pending = ()
        message.next_due = None
        message.change_status(status, at)
        await self._store.save_messages([message])
        self._events.publish(StatusChanged(message, status, at))

    async def advance_statuses(
        self,
        messages: Sequence[Message],
        status: DeliveryStatus,
        at: int,
        routing: Routing | None = None,
        *,
        together: bool = False,
    ) -> Sequence[Message]:
        """Move every message that is not final to ``status``; returns those moved.

        The simulation's bulk path: C-level passes over the group, one store write and
        one ``StatusesChanged`` event for all of it. ``routing``: the fields the caller
        knows every message shares, passed on in the event. ``together``: the caller
        knows that none is final and that all share one history tuple (they have moved
        together since they were created), which spares two passes over the group.
        """
        moved = messages
        if not together and not FINAL_STATUSES.isdisjoint(map(_STATUS, messages)):
            moved = [m for m in messages if m.status not in FINAL_STATUSES]
        if not moved:
            return moved
        entry = new_entry(HistoryEntry, (status, at))  # immutable: shared by the group
        deque(map(setattr, moved, repeat("status"), repeat(status)), maxlen=0)
        first = moved[0].history
        if together or all(map(is_, map(_HISTORY, moved), repeat(first))):
            # Messages that moved together so far share one history tuple: still one.
            histories: Iterable[tuple[HistoryEntry, ...]] = repeat((*first, entry))
        else:
            histories = map(_grower(entry), map(_HISTORY, moved))
        deque(map(setattr, moved, repeat("history"), histories), maxlen=0)
        await self._store.save_messages(moved)
        self._events.publish(StatusesChanged(moved, status, at, routing))
        return moved

    async def cancel(self, account_id: str, reference: str) -> Message:
        """Cancel a scheduled message: it becomes ``Deleted``."""
        message = await self.get(account_id, reference)
        if message.status is not DeliveryStatus.SCHEDULED:
            raise Conflict(
                f"Message '{reference}' is {message.status.label}; only a Scheduled "
                "message can be cancelled."
            )
        message.cancelled = True  # stored with the status change
        await self.change_status(message, DeliveryStatus.DELETED, self._now())
        return message

    async def cancel_batch(self, account_id: str, batch_reference: str) -> int:
        """Cancel every still-scheduled message of a batch; returns how many."""
        messages = await self._store.batch_messages(account_id, batch_reference)
        if not messages:
            raise NotFound(f"No batch with reference '{batch_reference}'.")
        scheduled = [m for m in messages if m.status is DeliveryStatus.SCHEDULED]
        for message in scheduled:
            message.cancelled = True  # stored with the status change
        cancelled = await self.advance_statuses(scheduled, DeliveryStatus.DELETED, self._now())
        return len(cancelled)
