"""Outbound messages in memory: by reference, and per account in creation order with
the indexes the message lists filter on; the counts by status, test flag and API are
the ledger's (``ledger.py``)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import chain, islice
from operator import attrgetter, le

from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.queries import TEXT_SCAN_LIMIT, MessageQuery, Page, paginate
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.storage.memory.index import MessageIndex
from mock_puresms.storage.memory.ledger import ALL, Ledger, kinds_of
from mock_puresms.storage.memory.references import References

_REFERENCE = attrgetter("reference")
_BATCH_REFERENCE = attrgetter("batch_reference")
_CLIENT_REFERENCE = attrgetter("client_reference")
_TO = attrgetter("to")
_CONTENT = attrgetter("content")
_CREATED_AT = attrgetter("created_at")
SCAN_CHUNK = 10_000
"""Candidates a filtered scan looks at between pauses (about 15 ms of a busy core)."""


class _AccountMessages:
    """One account's messages, oldest first, and its indexes."""

    __slots__ = (
        "by_batch",
        "by_client_reference",
        "by_to",
        "by_to_covers",
        "messages",
        "ordered",
    )

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.by_batch = MessageIndex()
        self.by_client_reference = MessageIndex()
        # Filled on first use: an index by recipient costs a bulk send more than its
        # other indexes together, and most runs never ask by recipient.
        self.by_to = MessageIndex()
        self.by_to_covers = 0  # how many of ``messages`` by_to holds, oldest first
        # Whether ``messages`` is in order of creation time too (a clock resumed earlier
        # by --db, or a wall clock set back, can break it): reports then bisect by time.
        self.ordered = True

    def append(self, messages: Sequence[Message]) -> None:
        if len(messages) == 1:  # a single send: no passes over columns
            message = messages[0]
            if self.ordered and self.messages and message.created_at < self.messages[-1].created_at:
                self.ordered = False
            self.messages.append(message)
            return
        times = list(map(_CREATED_AT, messages))
        if self.ordered and (
            (self.messages and times[0] < self.messages[-1].created_at)
            or not all(map(le, times, islice(times, 1, None)))
        ):
            self.ordered = False
        self.messages.extend(messages)

    def drop(self, gone: set[int]) -> None:
        """Drop the messages in ``gone`` (by ``id``) and rebuild the indexes (retention)."""
        self.messages = [m for m in self.messages if id(m) not in gone]
        self.by_batch, self.by_client_reference = MessageIndex(), MessageIndex()
        self.by_to, self.by_to_covers = MessageIndex(), 0
        for message in self.messages:
            self.by_batch.add(message.batch_reference, message)
            self.by_client_reference.add(message.client_reference, message)

    def recipient_index(self) -> MessageIndex:
        """Messages by recipient, brought up to date with the messages added since."""
        while self.index_recipients(len(self.messages)):
            pass
        return self.by_to

    def index_recipients(self, most: int) -> bool:
        """Bring the recipient index up to date by ``most`` messages at most; whether
        messages are still left out of it."""
        fresh = self.messages[self.by_to_covers : self.by_to_covers + most]
        if fresh:
            self.by_to.add_all(list(map(_TO, fresh)), fresh)
            self.by_to_covers += len(fresh)
        return self.by_to_covers < len(self.messages)


def _slice(indexed: Sequence[Message], query: MessageQuery) -> Page[Message]:
    """A page of an oldest-first list that holds exactly the matches."""
    # A slice from the end: the time of a page does not grow with the list.
    total = len(indexed)
    end = max(total - (query.page - 1) * query.page_size, 0)
    start = max(end - query.page_size, 0)
    items = list(indexed[start:end])[::-1]
    return Page(items=items, page=query.page, page_size=query.page_size, total_count=total)


def _capped(candidates: Iterator[Message], cut: list[bool] | None) -> Iterator[Message]:
    """The first ``TEXT_SCAN_LIMIT`` candidates; ``True`` goes to ``cut`` if there were more."""
    yield from islice(candidates, TEXT_SCAN_LIMIT)
    if next(candidates, None) is not None and cut is not None:
        cut.append(True)


def _containing(messages: Iterator[Message], text: str) -> Iterator[Message]:
    """The ``messages`` whose recipient or content holds ``text``, ignoring case.

    Searched a chunk at a time: a chunk's bodies are joined into one string and searched
    in C, and only the small parts of a chunk with a hit are looked at message by
    message. A rare word so costs a pass in C over the bodies, not a Python call per
    message; chunks grow, so a common word still answers a first page quickly.
    """
    needle = text.lower()
    size = 64
    while chunk := list(islice(messages, size)):
        size = min(size * 2, 4096)
        if not _holds(chunk, needle):
            continue
        for start in range(0, len(chunk), 64):
            part = chunk[start : start + 64]
            if len(chunk) > 64 and not _holds(part, needle):
                continue
            for message in part:
                if needle in message.to or needle in message.content.lower():
                    yield message


def _holds(chunk: list[Message], needle: str) -> bool:
    # A hit across two joined bodies is possible: the check per message sorts it out.
    return needle in "\n".join(map(_CONTENT, chunk)).lower() or needle in "\n".join(map(_TO, chunk))


class MessageTable:
    """Every message, by reference in creation order, and per account."""

    def __init__(self) -> None:
        self._messages: References[Message] = References()
        self._accounts: dict[str, _AccountMessages] = {}
        # Counts by status, test flag and API per block of the creation order: the lists
        # filtered on those (and the cross-account ones) are answered from it.
        self._ledger = Ledger()

    def add(self, messages: Sequence[Message]) -> None:
        """Add the new messages of one send (one account)."""
        if not messages:
            return
        account_id = messages[0].account_id
        data = self._accounts.get(account_id)
        if data is None:
            data = self._accounts[account_id] = _AccountMessages()
        self._ledger.add(messages)
        if len(messages) == 1:  # a single send: plain adds cost less than the passes below
            [message] = messages
            self._messages[message.reference] = message
            data.by_batch.add(message.batch_reference, message)
            data.by_client_reference.add(message.client_reference, message)
            data.append(messages)
            return
        # C-level passes over the columns: this runs for every message of a bulk send.
        self._messages.update(zip(map(_REFERENCE, messages), messages, strict=True))
        batches = set(map(_BATCH_REFERENCE, messages))
        if len(batches) == 1:  # one send, one batch (or none)
            (batch,) = batches
            if batch is not None:
                data.by_batch.extend(batch, messages)
        else:
            for message in messages:
                data.by_batch.add(message.batch_reference, message)
        client_references = list(map(_CLIENT_REFERENCE, messages))
        if client_references.count(None) < len(client_references):
            for reference, message in zip(client_references, messages, strict=True):
                data.by_client_reference.add(reference, message)
        data.append(messages)

    def status_changed(self, messages: Sequence[Message]) -> None:
        """Recount messages whose status has just changed (each by one history entry).

        The one place the indexes learn of a status change: every store's
        ``save_messages(..., status_changed=True)`` ends here.
        """
        self._ledger.moved(messages)

    def index_recipients(self, account_id: str | None, most: int) -> bool:
        """Add at most ``most`` messages of the account (or of one account with some left,
        when ``None``) to its recipient index; whether any account has some left then.

        The index is built on first use, and a million messages take seconds: a caller on
        the event loop builds it a chunk at a time (``MemoryStore``)."""
        if account_id is not None:
            data = self._accounts.get(account_id)
            accounts = [data] if data is not None else []
        else:
            accounts = list(self._accounts.values())
        behind = [data for data in accounts if data.by_to_covers < len(data.messages)]
        if not behind:
            return False
        return behind[0].index_recipients(most) or len(behind) > 1

    def get(self, reference: str) -> Message | None:
        return self._messages.get(reference)

    def _key_list(self, query: MessageQuery) -> Sequence[Message] | None:
        """The index list of the query's batch, client reference or recipient (oldest
        first), or ``None`` when it names none of them."""
        if query.account_id is None:
            if not self._by_key(query):
                return None
            # Across accounts: each account's list, merged in the order of creation.
            lists = [
                found
                for account_id in self._accounts
                if (found := self._key_list(replace(query, account_id=account_id)))
            ]
            if len(lists) <= 1:
                return lists[0] if lists else []
            return sorted(chain.from_iterable(lists), key=self._ledger.position)
        data = self._accounts.get(query.account_id)
        if data is None:
            return []
        if query.batch_reference is not None:
            return data.by_batch.get(query.batch_reference)
        if query.client_reference is not None:
            return data.by_client_reference.get(query.client_reference)
        if query.to is not None:
            return data.recipient_index().get(query.to)
        return None

    def _by_key(self, query: MessageQuery) -> bool:
        return (
            query.batch_reference is not None
            or query.client_reference is not None
            or query.to is not None
        )

    def indexed_page(self, query: MessageQuery) -> Page[Message] | None:
        """The page at once, in time independent of the account's size, when no filter
        must be checked message by message; ``None`` when one must (see ``scan``)."""
        if query.text is not None:
            return None
        start = (query.page - 1) * query.page_size
        keys = sum(
            key is not None for key in (query.batch_reference, query.client_reference, query.to)
        )
        kinds = kinds_of(query)
        if keys == 0:
            if query.account_id is not None and kinds == [ALL]:
                data = self._accounts.get(query.account_id)
                return _slice(data.messages if data is not None else [], query)
            # Status, test flag and API (of one account or all): from the ledger.
            total = self._ledger.total(query.account_id, kinds)
            newest = self._ledger.newest(query.account_id, kinds, start)
            items = list(islice(newest, query.page_size))
            return Page(items, query.page, query.page_size, total_count=total)
        if keys == 1 and kinds == [ALL]:
            indexed = self._key_list(query)
            if indexed is not None:
                return _slice(indexed, query)
        return None

    def scan(self, query: MessageQuery, cut: list[bool] | None = None) -> Iterator[Message | None]:
        """The matches newest first, with a ``None`` after every ``SCAN_CHUNK`` candidates
        looked at: where a caller on the event loop lets other requests run.

        Only two kinds of list come here: a batch, client reference or recipient with a
        further filter (the candidates are that key's messages, not the account's), and
        a text search, which looks at ``TEXT_SCAN_LIMIT`` candidates at most (and then
        appends ``True`` to ``cut``, when given).
        """
        checks: list[Callable[[Message], bool]] = []
        if query.batch_reference is not None:
            checks.append(lambda m: m.batch_reference == query.batch_reference)
        if query.client_reference is not None:
            checks.append(lambda m: m.client_reference == query.client_reference)
        if query.to is not None:
            checks.append(lambda m: m.to == query.to)
        if query.status is not None:
            checks.append(lambda m: m.status == query.status)
        if query.is_test is not None:
            checks.append(lambda m: m.is_test == query.is_test)
        if query.api is not None:
            checks.append(lambda m: m.api == query.api)
        keyed = self._key_list(query)
        candidates: Iterator[Message]
        if keyed is not None:
            candidates = reversed(keyed)
        else:
            # A text search, after the ledger has applied the status, test and API filters.
            candidates = self._ledger.newest(query.account_id, kinds_of(query), 0)
        if query.text is not None:
            candidates = _containing(_capped(candidates, cut), query.text)
        for looked, message in enumerate(candidates, 1):
            if all(check(message) for check in checks):
                yield message
            if looked % SCAN_CHUNK == 0:
                yield None

    def query(self, query: MessageQuery) -> Page[Message]:
        """A page in one go (see ``MemoryStore.query_messages`` for the chunked one)."""
        page = self.indexed_page(query)
        if page is not None:
            return page
        cut: list[bool] = []
        matches = (m for m in self.scan(query, cut) if m is not None)
        page = paginate(matches, query.page, query.page_size, count=query.count)
        return replace(page, partial=True) if cut else page

    def batch(self, account_id: str, batch_reference: str) -> list[Message]:
        data = self._accounts.get(account_id)
        return list(data.by_batch.get(batch_reference)) if data is not None else []

    def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None:
        messages = self.batch(account_id, batch_reference)
        if not messages:
            return None
        counts = Counter(m.status.label for m in messages)
        return BatchSummary(
            batch_reference=batch_reference,
            count=len(messages),
            created_at=messages[0].created_at,
            status_counts=dict(counts),
        )

    def created(self, account_id: str, start: int, end: int) -> list[Message]:
        """The account's messages created in ``[start, end)``, oldest first.

        Found by bisection when the messages are in time order (as they are unless the
        clock went back), so a report's time grows with its days, not with the account.
        """
        data = self._accounts.get(account_id)
        if data is None:
            return []
        if data.ordered:
            first = bisect_left(data.messages, start, key=_CREATED_AT)
            return data.messages[first : bisect_left(data.messages, end, first, key=_CREATED_AT)]
        return [m for m in data.messages if start <= m.created_at < end]

    def latest(self, account_id: str, to: str, sender: str) -> Message | None:
        data = self._accounts.get(account_id)
        if data is None:
            return None
        for message in reversed(data.recipient_index().get(to)):
            if message.sender == sender:
                return message
        return None

    def latest_sender_account(self, to: str, sender: str) -> str | None:
        # Rare (an injected reply without an account): a scan beats an index per send.
        newest: Message | None = None
        for account_id in self._accounts:
            message = self.latest(account_id, to, sender)
            if message is not None and (newest is None or message.created_at >= newest.created_at):
                newest = message
        return newest.account_id if newest is not None else None

    def prunable(self, finished_before: int | None, max_messages: int | None) -> list[Message]:
        """The messages retention removes: finished ones, oldest first, that finished
        before ``finished_before`` or are beyond ``max_messages``. A message still owed
        a scripted reply is kept until it has had it."""
        excess = len(self._messages) - max_messages if max_messages is not None else 0
        if excess <= 0 and finished_before is None:
            return []
        doomed: list[Message] = []
        for message in self._messages.values():  # oldest first
            if message.status not in FINAL_STATUSES or (
                message.reply_plan is not None and message.status is DeliveryStatus.DELIVERED
            ):
                continue
            old = finished_before is not None and message.updated_at < finished_before
            if old or excess > 0:
                doomed.append(message)
                excess -= 1
            elif finished_before is None:
                break
        return doomed

    def forget(self, messages: Sequence[Message]) -> None:
        touched: set[str] = set()
        gone: list[Message] = []
        for message in messages:
            if self._messages.pop(message.reference, None) is not None:
                touched.add(message.account_id)
                gone.append(message)
        self._ledger.remove(gone)
        dropped = set(map(id, gone))
        for account_id in touched:
            data = self._accounts.get(account_id)
            if data is not None:
                data.drop(dropped)

    def reset(self, account_id: str) -> None:
        """Forget one account's messages."""
        data = self._accounts.pop(account_id, None)
        if data is not None:
            for message in data.messages:
                self._messages.pop(message.reference, None)
            self._ledger.remove(data.messages)
