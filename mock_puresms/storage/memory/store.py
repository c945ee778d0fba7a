"""The in-memory store, the default: one table per concern behind the domain's ports.

State is lost when the process ends. The SQLite store keeps one of these as its state
and writes through to a file beside it (``storage.sqlite``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from mock_puresms.domain.accounts import Account, Debit
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.ports import Recovered
from mock_puresms.domain.queries import ContactQuery, GroupQuery, MessageQuery, Page, ReplyQuery
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.memory.contacts import AddressBooks
from mock_puresms.storage.memory.messages import MessageTable
from mock_puresms.storage.memory.replies import ReplyTable

RECIPIENT_CHUNK = 16_384
"""Messages added to a recipient index between pauses (about 30 ms of a busy core)."""


class MemoryStore:
    """Keeps everything in process memory: accounts, messages, replies, address books
    and tokens, each in its own table."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._messages = MessageTable()
        self._replies = ReplyTable()
        self._books = AddressBooks()
        self._tokens: dict[str, AccessToken] = {}

    # ---- lifecycle: nothing to load or write ------------------------------------

    async def open(self) -> Recovered:
        return Recovered()

    async def close(self) -> None:
        return None

    async def save_clock(self, now: int) -> None:
        return None

    async def save_deliveries(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]] = ()
    ) -> None:
        # The dispatcher holds its deliveries; only a durable store writes them down.
        return None

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        return None

    # ---- accounts ---------------------------------------------------------------

    async def get_account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    async def save_account(self, account: Account) -> None:
        self._accounts[account.id] = account

    async def list_accounts(self) -> list[Account]:
        return list(self._accounts.values())

    # ---- messages ---------------------------------------------------------------

    async def add_messages(self, messages: Sequence[Message], debit: Debit | None = None) -> None:
        # The debit was taken from the live account object, which is the one kept here.
        self._messages.add(messages)

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        # Live objects were changed in place: nothing to write, only counts to move.
        if status_changed:
            self._messages.status_changed(messages)

    async def get_message(self, reference: str) -> Message | None:
        return self._messages.get(reference)

    async def _recipients_indexed(self, account_id: str | None) -> None:
        # The recipient index is built on first use: a chunk at a time, so that the first
        # list by recipient of a million messages does not stall every other request.
        while self._messages.index_recipients(account_id, RECIPIENT_CHUNK):  # noqa: ASYNC110
            await asyncio.sleep(0)  # a turn for the other requests, not a wait for an event

    async def query_messages(self, query: MessageQuery) -> Page[Message]:
        if query.to is not None:
            await self._recipients_indexed(query.account_id)
        page = self._messages.indexed_page(query)
        if page is not None:
            return page
        # A filter no index answers walks its candidates (a batch's, a recipient's, or
        # at most TEXT_SCAN_LIMIT for a text search): in chunks, so that a long walk does
        # not hold every other request up.
        start = (query.page - 1) * query.page_size
        items: list[Message] = []
        total = 0
        cut: list[bool] = []
        for message in self._messages.scan(query, cut):
            if message is None:
                await asyncio.sleep(0)
                continue
            if start <= total < start + query.page_size:
                items.append(message)
            total += 1
            if not query.count and total > start + query.page_size:
                break  # one past the page tells there is more (the inbox counts no further)
        return Page(items, query.page, query.page_size, total_count=total, partial=bool(cut))

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        return self._messages.batch(account_id, batch_reference)

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None:
        return self._messages.batch_summary(account_id, batch_reference)

    async def messages_created(self, account_id: str, start: int, end: int) -> list[Message]:
        return self._messages.created(account_id, start, end)

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        await self._recipients_indexed(account_id)
        return self._messages.latest(account_id, to, sender)

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        await self._recipients_indexed(None)
        return self._messages.latest_sender_account(to, sender)

    # ---- replies ----------------------------------------------------------------

    async def add_reply(self, reply: Reply) -> None:
        self._replies.add(reply)

    async def get_reply(self, reference: str) -> Reply | None:
        return self._replies.get(reference)

    async def query_replies(self, query: ReplyQuery) -> Page[Reply]:
        return self._replies.query(query)

    # ---- contacts and groups ----------------------------------------------------

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        return self._books.opted_out(account_id, phones)

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None:
        return self._books.get_contact(account_id, contact_id)

    async def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        return self._books.get_contacts(account_id, contact_ids)

    async def contacts_by_phone(self, account_id: str, phones: Iterable[str]) -> dict[str, Contact]:
        return self._books.by_phone(account_id, phones)

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        self._books.save(contacts, groups)

    async def delete_contact(self, account_id: str, contact_id: str) -> bool:
        return self._books.delete_contact(account_id, contact_id)

    async def query_contacts(self, query: ContactQuery) -> Page[Contact]:
        return self._books.query_contacts(query)

    async def group_contacts(self, account_id: str, group_id: str) -> list[Contact]:
        return self._books.group_contacts(account_id, group_id)

    async def save_group(self, group: Group) -> None:
        self._books.save((), (group,))

    async def get_group(self, account_id: str, group_id: str) -> Group | None:
        return self._books.get_group(account_id, group_id)

    async def query_groups(self, query: GroupQuery) -> Page[Group]:
        return self._books.query_groups(query)

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        self._books.delete_group(account_id, group_id, contacts)

    # ---- OAuth access tokens ----------------------------------------------------

    async def save_token(self, token: AccessToken) -> None:
        self._tokens[token.digest] = token

    async def get_token(self, digest: str) -> AccessToken | None:
        return self._tokens.get(digest)

    async def delete_token(self, digest: str) -> None:
        self._tokens.pop(digest, None)

    async def delete_expired_tokens(self, now: int) -> int:
        kept = {d: t for d, t in self._tokens.items() if t.expires_at > now}
        removed = len(self._tokens) - len(kept)
        if removed:
            self._tokens = kept
        return removed

    # ---- retention and resets ---------------------------------------------------

    def prunable(
        self, finished_before: int | None, max_messages: int | None
    ) -> tuple[list[Message], list[Reply]]:
        """What retention removes (see ``StateStore.prune``), without removing it."""
        return (
            self._messages.prunable(finished_before, max_messages),
            self._replies.prunable(finished_before, max_messages),
        )

    def forget(self, messages: Sequence[Message], replies: Sequence[Reply]) -> None:
        """Drop messages and replies ``prunable`` picked."""
        self._messages.forget(messages)
        self._replies.forget(replies)

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        messages, replies = self.prunable(finished_before, max_messages)
        self.forget(messages, replies)
        return len(messages)

    async def reset(self, account_id: str | None = None) -> None:
        if account_id is None:
            self._clear()
            return
        self._accounts.pop(account_id, None)
        self._tokens = {d: t for d, t in self._tokens.items() if t.account_id != account_id}
        self._messages.reset(account_id)
        self._replies.reset(account_id)
        self._books.reset(account_id)
