"""Replies arriving from phones: linking them to a message, opt-out words, publication."""

from __future__ import annotations

from mock_puresms.domain.contacts import ContactService
from mock_puresms.domain.events import EventBus, ReplyReceived
from mock_puresms.domain.messages import Message, new_ids, new_reference
from mock_puresms.domain.ports import ReplyStore
from mock_puresms.domain.replies import Reply, opt_change


class ReplyService:
    """Records inbound SMS for an account."""

    def __init__(self, store: ReplyStore, events: EventBus, contacts: ContactService) -> None:
        self._store = store
        self._events = events
        self._contacts = contacts

    async def receive(
        self,
        account_id: str,
        from_: str,
        to: str,
        content: str,
        at: int,
        *,
        answering: Message | None = None,
    ) -> Reply:
        """Record that phone ``from_`` texted sender ``to`` at mock time ``at``.

        ``inReplyTo`` is ``answering`` (a scripted reply answers one message), else the
        newest message the account sent to that phone from that sender; STOP-like words
        opt the phone out, START-like words back in, on the phone's contact (created by
        a STOP when there is none).
        """
        original = answering or await self._store.latest_message(account_id, from_, to)
        reply = Reply(
            reference=new_reference("R"),
            account_id=account_id,
            from_=from_,
            to=to,
            content=content,
            received_at=at,
            in_reply_to=original.reference if original is not None else None,
            client_reference=original.client_reference if original is not None else None,
            batch_reference=original.batch_reference if original is not None else None,
            inbound_id=new_ids(1)[0],
        )
        await self._store.add_reply(reply)
        change = opt_change(content)
        if change is not None:
            await self._contacts.set_opted_out(account_id, from_, change, at)
        self._events.publish(ReplyReceived(reply))
        return reply
