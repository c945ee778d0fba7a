"""What the domain asks a store for when it lists things: filters and pages.

Plain values shared by the domain, the stores that answer them and the surfaces that
build them from query strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

from mock_puresms.domain.statuses import DeliveryStatus

T = TypeVar("T")

TEXT_SCAN_LIMIT = 200_000
"""Messages a text search (``MessageQuery.text``, the inbox's ``q``) looks at, newest
first, at most: no index answers a substring, and a search for a rare word must not walk
a million messages. A page it cuts short says so (``Page.partial``)."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a newest-first list."""

    items: list[T]
    page: int
    page_size: int
    total_count: int
    # A search that looked at its limit of candidates (the inbox's text search) before
    # filling the page: older matches may exist beyond what it looked at.
    partial: bool = False


def paginate(matches: Iterable[T], page: int, page_size: int, *, count: bool = True) -> Page[T]:
    """One page of newest-first ``matches``, counting them all for ``totalCount``; with
    ``count=False`` it stops one match past the page (enough to tell there is more)."""
    start = (page - 1) * page_size
    if not count:
        window = list(islice(matches, start, start + page_size + 1))
        return Page(window[:page_size], page, page_size, start + len(window))
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
    api: str | None = None  # "v1" or "connect"
    # A case-insensitive substring of the recipient or the content (the inbox's search).
    text: str | None = None
    page: int = 1
    page_size: int = 100
    # False: ``total_count`` only tells whether a next page exists (it counts at most one
    # match beyond this page), so a first page of 100,000 messages costs one page's work.
    count: bool = True


@dataclass(frozen=True, slots=True)
class ReplyQuery:
    """Filters of a reply list; ``account_id=None`` spans accounts."""

    account_id: str | None
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
