"""The storage interface: what the domain asks of any store (memory now, SQLite later).

Every write method is one whole unit: it is applied entirely or not at all. Stores may
hand out live ``Message`` and ``Account`` objects; after changing one, the domain calls
``save_messages`` or ``save_account`` so a durable store can write it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus

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


class Store(Protocol):
    """Where the mock keeps its state."""

    async def get_account(self, account_id: str) -> Account | None: ...

    async def save_account(self, account: Account) -> None: ...

    async def add_messages(self, messages: Sequence[Message], cost: int) -> None:
        """Store new messages of one account and debit ``cost`` credits, all or nothing.

        Raises ``InsufficientCredits`` (storing nothing) when the account's balance is
        limited and below ``cost``.
        """
        ...

    async def save_messages(self, messages: Sequence[Message]) -> None:
        """Persist the current state of messages changed since they were stored."""
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

    async def set_opted_out(self, account_id: str, phone: str, opted_out: bool) -> None: ...

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Which of ``phones`` have opted out of the account's messages."""
        ...

    async def reset(self, account_id: str | None = None) -> None:
        """Forget messages, replies and opt-outs (of one account, or all)."""
        ...
