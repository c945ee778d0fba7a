"""The SQLite store (``--db PATH``): the in-memory store's state, with a journal beside it.

Reads are served by the memory store; every write goes to the journal first (committed
to SQLite as one unit) and only then to memory, so what a client was told has happened
survives a crash. At start-up the journal's file is loaded into memory, and ``open``
returns what the mock must resume: planned lifecycle steps, receipts not yet handed to
the webhook dispatcher, and unfinished deliveries.

Messages are many (a million take seconds to read): ``open`` loads them for a moment
(``EAGER_SECONDS``, all of a small file) and leaves the rest to ``Recovered.rest``,
which the mock runs in the background while the server answers. Until it has finished,
reads of messages (and retention and resets) wait for it, so no answer sees part of an
account; sends are written to the file at once and join memory after the loaded ones,
so their order, counts and ids are as if the load had been done first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Sequence
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
from mock_puresms.storage.sqlite.loading import SLICE, SendsReader

EAGER_SECONDS = 0.05
"""How long ``open`` loads messages before the server answers: a small file is then
loaded whole, and a large one goes on in the background."""
TURN_SECONDS = 0.008
"""How long the background load adds messages before other work gets a turn."""
OWED_PART = 4096
"""Owed receipts handed over at once after a background load (a few milliseconds)."""


class SqliteStore:
    """Everything in SQLite at ``path`` (WAL mode), served from memory."""

    def __init__(
        self, path: Path, *, eager_seconds: float | None = None, slice_size: int | None = None
    ) -> None:
        self._path = path
        self._journal = SqliteJournal(path)
        self._memory = MemoryStore()
        # The module's values when not given, read now: tests set them for a whole app.
        self._eager_seconds = EAGER_SECONDS if eager_seconds is None else eager_seconds
        self._slice_size = SLICE if slice_size is None else slice_size
        # While messages are still loading: set when they are all in memory.
        self._loading: asyncio.Event | None = None
        self._held: list[Sequence[Message]] = []  # sends made while loading, in order
        self._reader: SendsReader | None = None

    # -- start-up and shutdown ------------------------------------------------------

    async def open(self) -> Recovered:
        loaded = self._journal.load()
        memory = self._memory
        for account in loaded.accounts:
            await memory.save_account(account)
        for reply in loaded.replies:
            await memory.add_reply(reply)
        await memory.save_contacts((), loaded.groups)
        await memory.save_contacts(loaded.contacts)
        for token in loaded.tokens:
            await memory.save_token(token)
        self._journal.start()
        reader = self._reader = SendsReader(self._path, loaded.last_send, self._slice_size)
        in_flight: list[Message] = []
        loaded_now = 0
        # Blocking is right here: the server does not answer before ``open`` returns.
        deadline = time.perf_counter() + self._eager_seconds
        while (left := deadline - time.perf_counter()) > 0:
            part = reader.take(left)
            if part is None:  # all loaded
                reader.close()
                self._reader = None
                return Recovered(
                    clock=loaded.clock,
                    in_flight=in_flight,
                    receipts=await self._owed(loaded.owed),
                    deliveries=loaded.deliveries,
                    loaded=loaded_now,
                )
            if part is not False:
                await memory.add_messages(part.messages)
                in_flight.extend(part.in_flight)
                loaded_now += len(part.messages)
        self._loading = asyncio.Event()
        return Recovered(
            clock=loaded.clock,
            in_flight=in_flight,
            deliveries=loaded.deliveries,
            rest=self._rest(reader, loaded.owed),
            loaded=loaded_now,
        )

    async def _rest(
        self, reader: SendsReader, owed: list[tuple[str, int]]
    ) -> AsyncIterator[Recovered]:
        """The rest of the messages into memory, a turn at a time; yields the messages
        the simulation must resume, then the receipts still owed. Reads go ahead once
        the messages are in (before the receipts: they change nothing a read sees)."""
        memory = self._memory
        try:
            in_flight: list[Message] = []
            loaded = 0
            turn_ends = time.perf_counter() + TURN_SECONDS
            while (part := await reader.next()) is not None:
                await memory.add_messages(part.messages)
                in_flight.extend(part.in_flight)
                loaded += len(part.messages)
                if time.perf_counter() >= turn_ends:
                    yield Recovered(in_flight=in_flight, loaded=loaded)
                    in_flight, loaded = [], 0
                    await asyncio.sleep(0)  # a turn for the requests
                    turn_ends = time.perf_counter() + TURN_SECONDS
            # The sends made meanwhile, after the loaded ones; then reads go ahead.
            await self._join_held()
            self._loaded()
            yield Recovered(in_flight=in_flight, loaded=loaded)
            # The receipts owed, in order, a part at a time: a crash in the middle of a
            # simulation step of a big bulk leaves one owed for each of its messages.
            for start in range(0, len(owed), OWED_PART):
                yield Recovered(receipts=await self._owed(owed[start : start + OWED_PART]))
                await asyncio.sleep(0)
        finally:
            # Also when stopped or failed: waiting reads then answer from what is loaded,
            # and the sends acknowledged meanwhile are among it.
            await self._join_held()
            self._loaded()
            reader.close()
            self._reader = None

    async def _join_held(self) -> None:
        """The sends made while loading into memory, in order (the memory store's
        ``add_messages`` does not suspend: safe in a ``finally`` of a cancelled load)."""
        held, self._held = self._held, []
        for messages in held:
            await self._memory.add_messages(messages)

    def _loaded(self) -> None:
        loading, self._loading = self._loading, None
        if loading is not None:
            loading.set()

    async def _owed(self, owed: list[tuple[str, int]]) -> list[tuple[Message, int]]:
        """The receipts still owed, of the messages in memory."""
        receipts = []
        for reference, position in owed:
            message = await self._memory.get_message(reference)
            if message is not None and position < len(message.history):
                receipts.append((message, position))
        return receipts

    @property
    def loading(self) -> bool:
        """Whether messages are still loading in the background (``Recovered.rest``)."""
        return self._loading is not None

    async def wait_loaded(self) -> None:
        """Return once every message of the file is in memory."""
        if self._loading is not None:
            await self._loading.wait()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
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
        if self._loading is not None:  # joins memory after the messages being loaded
            self._held.append(messages)
        else:
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
        await self.wait_loaded()
        messages, replies = self._memory.prunable(finished_before, max_messages)
        if not messages and not replies:
            return 0
        await self._journal.forget(messages, replies)
        self._memory.forget(messages, replies)
        return len(messages)

    async def reset(self, account_id: str | None = None) -> None:
        await self.wait_loaded()
        await self._journal.reset(account_id)
        await self._memory.reset(account_id)

    # -- reads: from memory -----------------------------------------------------------

    async def get_account(self, account_id: str) -> Account | None:
        return await self._memory.get_account(account_id)

    async def list_accounts(self) -> list[Account]:
        return await self._memory.list_accounts()

    async def get_message(self, reference: str) -> Message | None:
        await self.wait_loaded()
        return await self._memory.get_message(reference)

    async def query_messages(self, query: MessageQuery) -> Page[Message]:
        await self.wait_loaded()
        return await self._memory.query_messages(query)

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        await self.wait_loaded()
        return await self._memory.batch_messages(account_id, batch_reference)

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None:
        await self.wait_loaded()
        return await self._memory.batch_summary(account_id, batch_reference)

    async def messages_created(self, account_id: str, start: int, end: int) -> list[Message]:
        await self.wait_loaded()
        return await self._memory.messages_created(account_id, start, end)

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        await self.wait_loaded()
        return await self._memory.latest_message(account_id, to, sender)

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        await self.wait_loaded()
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
