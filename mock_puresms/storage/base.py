"""The storage interface: what the domain asks of any store (memory now, SQLite later).

Every write method is one whole unit: it is applied entirely or not at all. Stores may
hand out live ``Message`` and ``Account`` objects; after changing one, the domain calls
``save_messages`` or ``save_account`` so a durable store can write it. Contacts, groups
and tokens are immutable values: a change is a new value saved over the old one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import AccessToken

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a newest-first list."""

    items: list[T]
    page: int
    page_size: int
    total_count: int


def paginate(matches: Iterable[T], page: int, page_size: int) -> Page[T]:
    """One page of newest-first ``matches``, counting them all for ``totalCount``."""
    start = (page - 1) * page_size
    items: list[T] = []
    total = 0
    for item in matches:
        if start <= total < start + page_size:
            items.append(item)
        total += 1
    return Page(items=items, page=page, page_size=page_size, total_count=total)


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters of a message list; ``None`` means any. ``account_id=None`` spans accounts."""

    account_id: str | None
    batch_reference: str | None = None
    client_reference: str | None = None
    to: str | None = None
    status: DeliveryStatus | None = None
    is_test: bool | None = None
    page: int = 1
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class ReplyQuery:
    account_id: str
    from_: str | None = None
    in_reply_to: str | None = None
    since: int | None = None
    page: int = 1
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class ContactQuery:
    """Filters of a contact list; ``search`` is a case-insensitive substring."""

    account_id: str
    search: str | None = None
    group_id: str | None = None
    opted_out: bool | None = None
    page: int = 1
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class GroupQuery:
    account_id: str
    page: int = 1
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a durable store hands back at start-up for the mock to carry on."""

    clock: int | None = None  # where the virtual clock stood
    in_flight: list[Message] = field(default_factory=list)  # messages with a plan
    receipts: list[tuple[Message, int]] = field(default_factory=list)  # (message, history index)
    deliveries: list[Delivery] = field(default_factory=list)  # unfinished, oldest first


class Store(Protocol):
    """Where the mock keeps its state."""

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

    async def get_account(self, account_id: str) -> Account | None: ...

    async def save_account(self, account: Account) -> None: ...

    async def add_messages(self, messages: Sequence[Message], cost: int) -> None:
        """Store new messages of one account and debit ``cost`` credits, all or nothing.

        Raises ``InsufficientCredits`` (storing nothing) when the account's balance is
        limited and below ``cost``.
        """
        ...

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        """Persist the current state of messages changed since they were stored.

        With ``status_changed`` each message's last history entry is a new status
        change (a receipt is owed for it); otherwise only its plan changed.
        """
        ...

    async def get_message(self, reference: str) -> Message | None: ...

    async def query_messages(self, query: MessageQuery) -> Page[Message]: ...

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        """Every message of a batch, oldest first."""
        ...

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None: ...

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        """The newest message of the account sent to phone ``to`` from ``sender``."""
        ...

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        """The account that last sent to phone ``to`` from ``sender``, across accounts."""
        ...

    async def add_reply(self, reply: Reply) -> None: ...

    async def get_reply(self, reference: str) -> Reply | None: ...

    async def query_replies(self, query: ReplyQuery) -> Page[Reply]: ...

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Which of ``phones`` belong to contacts of the account that have opted out.

        Called once per send with up to 15,000 phones: a set lookup per phone, not a scan.
        """
        ...

    # ---- contacts and groups ---------------------------------------------------------

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None: ...

    async def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        """The account's contacts among ``contact_ids``, by id; unknown ids are left out."""
        ...

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

    # ---- OAuth access tokens ---------------------------------------------------------

    async def save_token(self, token: AccessToken) -> None: ...

    async def get_token(self, digest: str) -> AccessToken | None: ...

    async def delete_token(self, digest: str) -> None: ...

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        """Retention: delete finished messages, oldest first, that finished before
        ``finished_before`` or exceed ``max_messages`` (and replies received before
        ``finished_before``); returns how many messages went."""
        ...

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        """Forget finished webhook deliveries (retention)."""
        ...

    async def reset(self, account_id: str | None = None) -> None:
        """Forget messages, replies, contacts, groups and tokens (of one account, or all)."""
        ...
