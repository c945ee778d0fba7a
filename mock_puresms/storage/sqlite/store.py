"""The SQLite store (``--db PATH``): the in-memory store's state, with a journal beside it.

Reads are served by the memory store; every write goes to the journal first (committed
to SQLite as one unit) and only then to memory, so what a client was told has happened
survives a crash. At start-up the journal's file is loaded into memory, and ``open``
returns what the mock must resume: planned lifecycle steps, receipts not yet handed to
the webhook dispatcher, and unfinished deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from mock_puresms.domain.accounts import Account, Debit
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.ports import Recovered
from mock_puresms.domain.queries import ContactQuery, GroupQuery, MessageQuery, Page, ReplyQuery
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.sqlite.journal import SqliteJournal


class SqliteStore:
    """Everything in SQLite at ``path`` (WAL mode), served from memory."""

    def __init__(self, path: Path) -> None:
        self._journal = SqliteJournal(path)
        self._memory = MemoryStore()

    # -- start-up and shutdown ------------------------------------------------------

    async def open(self) -> Recovered:
        loaded = self._journal.load()
        memory = self._memory
        for account in loaded.accounts:
            await memory.save_account(account)
        in_flight: list[Message] = []
        for messages in loaded.sends:
            in_flight.extend(m for m in messages if m.pending or m.reply_plan is not None)
            await memory.add_messages(messages)
        for reply in loaded.replies:
            await memory.add_reply(reply)
        await memory.save_contacts((), loaded.groups)
        await memory.save_contacts(loaded.contacts)
        for token in loaded.tokens:
            await memory.save_token(token)
        receipts = []
        for reference, position in loaded.owed:
            message = await memory.get_message(reference)
            if message is not None and position < len(message.history):
                receipts.append((message, position))
        self._journal.start()
        return Recovered(
            clock=loaded.clock, in_flight=in_flight, receipts=receipts, deliveries=loaded.deliveries
        )

    async def close(self) -> None:
        self._journal.close()

    async def save_clock(self, now: int) -> None:
        await self._journal.save_clock(now)

    async def save_deliveries(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]] = ()
    ) -> None:
        await self._journal.save_deliveries(deliveries, flushed)

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        await self._journal.delete_deliveries(ids)

    # -- writes: to the journal first, then to memory ---------------------------------

    async def save_account(self, account: Account) -> None:
        await self._journal.save_account(account)
        await self._memory.save_account(account)

    async def add_messages(self, messages: Sequence[Message], debit: Debit | None = None) -> None:
        if not messages:
            return
        await self._journal.add_messages(messages, debit)
        await self._memory.add_messages(messages, debit)

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        if not messages:
            return
        # The memory store holds these very objects, already changed: the file needs
        # writing, and memory only its counts by status moving.
        await self._journal.save_messages(messages, status_changed=status_changed)
        await self._memory.save_messages(messages, status_changed=status_changed)

    async def add_reply(self, reply: Reply) -> None:
        await self._journal.add_reply(reply)
        await self._memory.add_reply(reply)

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        await self._journal.save_contacts(contacts, groups)
        await self._memory.save_contacts(contacts, groups)

    async def delete_contact(self, account_id: str, contact_id: str) -> bool:
        await self._journal.delete_contact(account_id, contact_id)
        return await self._memory.delete_contact(account_id, contact_id)

    async def save_group(self, group: Group) -> None:
        await self.save_contacts((), (group,))

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        await self._journal.delete_group(account_id, group_id, contacts)
        await self._memory.delete_group(account_id, group_id, contacts)

    async def save_token(self, token: AccessToken) -> None:
        await self._journal.save_token(token)
        await self._memory.save_token(token)

    async def delete_token(self, digest: str) -> None:
        await self._journal.delete_token(digest)
        await self._memory.delete_token(digest)

    async def delete_expired_tokens(self, now: int) -> int:
        # Memory mirrors the file: a write only when there is something to delete.
        removed = await self._memory.delete_expired_tokens(now)
        if removed:
            await self._journal.delete_expired_tokens(now)
        return removed

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        messages, replies = self._memory.prunable(finished_before, max_messages)
        if not messages and not replies:
            return 0
        await self._journal.forget(messages, replies)
        self._memory.forget(messages, replies)
        return len(messages)

    async def reset(self, account_id: str | None = None) -> None:
        await self._journal.reset(account_id)
        await self._memory.reset(account_id)

    # -- reads: from memory -----------------------------------------------------------

    async def get_account(self, account_id: str) -> Account | None:
        return await self._memory.get_account(account_id)

    async def list_accounts(self) -> list[Account]:
        return await self._memory.list_accounts()

    async def get_message(self, reference: str) -> Message | None:
        return await self._memory.get_message(reference)

    async def query_messages(self, query: MessageQuery) -> Page[Message]:
        return await self._memory.query_messages(query)

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        return await self._memory.batch_messages(account_id, batch_reference)

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None:
        return await self._memory.batch_summary(account_id, batch_reference)

    async def messages_created(self, account_id: str, start: int, end: int) -> list[Message]:
        return await self._memory.messages_created(account_id, start, end)

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        return await self._memory.latest_message(account_id, to, sender)

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        return await self._memory.latest_sender_account(to, sender)

    async def get_reply(self, reference: str) -> Reply | None:
        return await self._memory.get_reply(reference)

    async def query_replies(self, query: ReplyQuery) -> Page[Reply]:
        return await self._memory.query_replies(query)

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        return await self._memory.opted_out(account_id, phones)

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None:
        return await self._memory.get_contact(account_id, contact_id)

    async def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        return await self._memory.get_contacts(account_id, contact_ids)

    async def contacts_by_phone(self, account_id: str, phones: Iterable[str]) -> dict[str, Contact]:
        return await self._memory.contacts_by_phone(account_id, phones)

    async def query_contacts(self, query: ContactQuery) -> Page[Contact]:
        return await self._memory.query_contacts(query)

    async def group_contacts(self, account_id: str, group_id: str) -> list[Contact]:
        return await self._memory.group_contacts(account_id, group_id)

    async def get_group(self, account_id: str, group_id: str) -> Group | None:
        return await self._memory.get_group(account_id, group_id)

    async def query_groups(self, query: GroupQuery) -> Page[Group]:
        return await self._memory.query_groups(query)

    async def get_token(self, digest: str) -> AccessToken | None:
        return await self._memory.get_token(digest)
