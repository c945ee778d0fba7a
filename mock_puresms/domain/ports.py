"""What the domain asks of a store: one narrow Protocol per service need.

Storage implements these (``mock_puresms.storage``); the domain never imports it. Every
write method is one whole unit: it is applied entirely or not at all. Stores may hand
out live ``Message`` and ``Account`` objects; after changing one, the domain calls
``save_messages`` or ``save_account`` so a durable store can write it. Contacts, groups
and tokens are immutable values: a change is a new value saved over the old one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mock_puresms.domain.accounts import AccountStore, Debit
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.queries import ContactQuery, GroupQuery, MessageQuery, Page, ReplyQuery
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.tokens import AccessToken

__all__ = [
    "AccountStore",
    "ContactStore",
    "GroupStore",
    "MessageStore",
    "Recovered",
    "ReplyStore",
    "StateStore",
    "Store",
    "TokenStore",
]


class MessageStore(Protocol):
    """Outbound messages: what ``MessageService`` and the message lists need."""

    async def add_messages(self, messages: Sequence[Message], debit: Debit | None = None) -> None:
        """Store new messages of one account, with the account's balance after ``debit``
        (already taken from the live account by the domain), as one unit."""
        ...

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        """Persist the current state of messages changed since they were stored.

        With ``status_changed`` each message's last history entry is a new status
        change (a receipt is owed for it), and the entry before it the status the store
        last saw: a store that keeps counts by status (for lists whose time must not grow
        with the account) moves each message's count from that status to the new one, so
        every status change is saved, once. Otherwise only the plan changed.
        """
        ...

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Which of ``phones`` belong to contacts of the account that have opted out.

        Called once per send with up to 15,000 phones: a set lookup per phone, not a scan.
        """
        ...

    async def get_message(self, reference: str) -> Message | None: ...

    async def query_messages(self, query: MessageQuery) -> Page[Message]: ...

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        """Every message of a batch, oldest first."""
        ...

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None: ...

    async def messages_created(self, account_id: str, start: int, end: int) -> list[Message]:
        """The account's messages created at mock times ``start <= t < end``, oldest first."""
        ...

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        """The newest message of the account sent to phone ``to`` from ``sender``."""
        ...

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        """The account that last sent to phone ``to`` from ``sender``, across accounts."""
        ...


class ReplyStore(Protocol):
    """Inbound replies, and the message a reply answers: what ``ReplyService`` needs."""

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        """The newest message of the account sent to phone ``to`` from ``sender``."""
        ...

    async def add_reply(self, reply: Reply) -> None: ...

    async def get_reply(self, reference: str) -> Reply | None: ...

    async def query_replies(self, query: ReplyQuery) -> Page[Reply]: ...


class ContactStore(Protocol):
    """The address book: what ``ContactService`` and the contact list need."""

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None: ...

    async def contacts_by_phone(self, account_id: str, phones: Iterable[str]) -> dict[str, Contact]:
        """The account's contacts with one of ``phones``, by phone number."""
        ...

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        """Insert or replace contacts (by id) and groups (by id), as one unit.

        A replaced contact keeps its place in the account's creation order. The caller
        has checked that no two contacts of an account share a phone number.
        """
        ...

    async def delete_contact(self, account_id: str, contact_id: str) -> bool:
        """Delete a contact (and its group memberships); ``False`` if there was none."""
        ...

    async def query_contacts(self, query: ContactQuery) -> Page[Contact]:
        """Newest first (by creation)."""
        ...


class GroupStore(Protocol):
    """Groups and their members: what ``GroupService`` and the group list need."""

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None: ...

    async def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        """The account's contacts among ``contact_ids``, by id; unknown ids are left out."""
        ...

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        """Insert or replace contacts (by id) and groups (by id), as one unit."""
        ...

    async def group_contacts(self, account_id: str, group_id: str) -> list[Contact]:
        """Every contact of a group, oldest first (by creation)."""
        ...

    async def save_group(self, group: Group) -> None:
        """Insert or replace a group (by id)."""
        ...

    async def get_group(self, account_id: str, group_id: str) -> Group | None: ...

    async def query_groups(self, query: GroupQuery) -> Page[Group]:
        """Newest first (by creation)."""
        ...

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        """Delete a group and save ``contacts``, its former members without it, as one unit."""
        ...


class TokenStore(Protocol):
    """OAuth access tokens, by digest: what ``TokenService`` needs."""

    async def save_token(self, token: AccessToken) -> None: ...

    async def get_token(self, digest: str) -> AccessToken | None: ...

    async def delete_token(self, digest: str) -> None: ...

    async def delete_expired_tokens(self, now: int) -> int:
        """Forget every token that expired at ``now`` or before (retention); how many."""
        ...


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a durable store hands back at start-up for the mock to carry on."""

    clock: int | None = None  # where the virtual clock stood
    in_flight: list[Message] = field(default_factory=list)  # messages with a plan
    receipts: list[tuple[Message, int]] = field(default_factory=list)  # (message, history index)
    deliveries: list[Delivery] = field(default_factory=list)  # unfinished, oldest first
    # What is still loading, when the store loads the rest in the background: the mock
    # runs it after start-up and resumes what each part yields (the store's reads wait
    # for it to finish).
    rest: AsyncIterator[Recovered] | None = None
    loaded: int = 0  # in a part of ``rest``: how many messages it brought into memory


class StateStore(Protocol):
    """The store as a whole: start-up, shutdown, the clock, webhook deliveries,
    retention and resets (what the runtime needs, beside the services)."""

    async def open(self) -> Recovered:
        """Load what a previous run left (nothing for a memory store)."""
        ...

    async def close(self) -> None: ...

    async def save_clock(self, now: int) -> None:
        """Remember where the virtual clock stands."""
        ...

    async def save_deliveries(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]] = ()
    ) -> None:
        """Persist webhook deliveries' current state, as one unit with the receipts
        (message reference, history index) they were made from, which are no longer owed.
        """
        ...

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        """Forget finished webhook deliveries (retention)."""
        ...

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        """Retention: delete finished messages, oldest first, that finished before
        ``finished_before`` or exceed ``max_messages`` (and replies, oldest first, received
        before ``finished_before`` or beyond ``max_messages``); returns how many messages
        went."""
        ...

    async def reset(self, account_id: str | None = None) -> None:
        """Forget messages, replies, contacts, groups and tokens (of one account, or all)."""
        ...


class Store(
    AccountStore,
    MessageStore,
    ReplyStore,
    ContactStore,
    GroupStore,
    TokenStore,
    StateStore,
    Protocol,
):
    """The whole store, as the composition root wires it: every Protocol above.

    Each domain service takes only the part it needs; ``MemoryStore`` and
    ``SqliteStore`` (``mock_puresms.storage``) implement all of them.
    """
