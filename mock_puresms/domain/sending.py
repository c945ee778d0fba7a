"""Sending, cancelling and changing the status of messages: the rules of section 3."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.events import EventBus, MessagesCreated, StatusChanged
from mock_puresms.domain.messages import (
    HistoryEntry,
    Message,
    new_entry,
    new_reference,
    new_references,
)
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.storage.base import Store


@dataclass(slots=True)
class OutboundSms:
    """One validated message of a send request, batch fallbacks already applied."""

    to: str
    sender: str
    content: str
    encoding: str
    segments: int
    client_reference: str | None = None
    receipt_url: str | None = None


def new_batch_reference() -> str:
    return new_reference("B")


class MessageService:
    """Creates messages and moves them between statuses, publishing what happened."""

    def __init__(
        self,
        store: Store,
        events: EventBus,
        now: Callable[[], int],
    ) -> None:
        self._store = store
        self._events = events
        self._now = now
        self._plan: Callable[[Sequence[Message]], None] | None = None

    def use_planner(self, plan: Callable[[Sequence[Message]], None]) -> None:
        """The simulation's hook: decides each new message's fate before it is stored,
        so the plan is stored with it."""
        self._plan = plan

    async def send(
        self,
        account: Account,
        items: Sequence[OutboundSms],
        *,
        is_test: bool,
        batch_reference: str | None = None,
        send_at: int | None = None,
    ) -> list[Message]:
        """Create one message per item, all or none.

        Messages to opted-out phones are created ``Skipped`` and cost nothing; the rest
        cost one credit per segment unless in test mode. Raises ``InsufficientCredits``
        (creating nothing) when the account cannot pay.
        """
        now = self._now()
        opted_out = await self._store.opted_out(account.id, [item.to for item in items])
        scheduled = send_at is not None and send_at > now
        initial = DeliveryStatus.SCHEDULED if scheduled else DeliveryStatus.ACCEPTED
        account_id = account.id
        messages: list[Message] = []
        cost = 0
        references = new_references("M", len(items))
        skipped_status = DeliveryStatus.SKIPPED
        for item, reference in zip(items, references, strict=True):
            status = skipped_status if item.to in opted_out else initial
            if status is not skipped_status and not is_test:
                cost += item.segments
            messages.append(
                Message(
                    reference=reference,
                    account_id=account_id,
                    to=item.to,
                    sender=item.sender,
                    content=item.content,
                    encoding=item.encoding,
                    segments=item.segments,
                    is_test=is_test,
                    status=status,
                    created_at=now,
                    client_reference=item.client_reference,
                    batch_reference=batch_reference,
                    receipt_url=item.receipt_url,
                    send_at=send_at,
                    history=[new_entry(HistoryEntry, (status, now))],
                )
            )
        if self._plan is not None:
            self._plan(messages)
        await self._store.add_messages(messages, cost)
        self._events.publish(MessagesCreated(messages))
        for message in messages:
            # A skipped message produces its one receipt at creation.
            if message.status is DeliveryStatus.SKIPPED:
                self._events.publish(StatusChanged(message, message.status, now))
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
        self, messages: Sequence[Message], status: DeliveryStatus, at: int
    ) -> list[Message]:
        """Move every message that is not final to ``status``; returns those moved.

        The simulation's bulk path: one store write for a whole group of messages.
        """
        moved = [m for m in messages if m.status not in FINAL_STATUSES]
        entry = new_entry(HistoryEntry, (status, at))  # immutable: shared by the group
        for message in moved:
            message.status = status
            message.history.append(entry)
        if moved:
            await self._store.save_messages(moved)
            self._events.publish_all([StatusChanged(m, status, at) for m in moved])
        return moved

    async def cancel(self, account_id: str, reference: str) -> Message:
        """Cancel a scheduled message: it becomes ``Deleted``."""
        message = await self.get(account_id, reference)
        if message.status is not DeliveryStatus.SCHEDULED:
            raise Conflict(
                f"Message '{reference}' is {message.status.label}; only a Scheduled "
                "message can be cancelled."
            )
        await self.change_status(message, DeliveryStatus.DELETED, self._now())
        return message

    async def cancel_batch(self, account_id: str, batch_reference: str) -> int:
        """Cancel every still-scheduled message of a batch; returns how many."""
        messages = await self._store.batch_messages(account_id, batch_reference)
        if not messages:
            raise NotFound(f"No batch with reference '{batch_reference}'.")
        scheduled = [m for m in messages if m.status is DeliveryStatus.SCHEDULED]
        cancelled = await self.advance_statuses(scheduled, DeliveryStatus.DELETED, self._now())
        return len(cancelled)
