"""Outbound messages in memory: by reference, and per account in creation order with
the indexes the message lists filter on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from operator import attrgetter

from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.queries import MessageQuery, Page, paginate
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.storage.memory.index import MessageIndex

_REFERENCE = attrgetter("reference")
_BATCH_REFERENCE = attrgetter("batch_reference")
_CLIENT_REFERENCE = attrgetter("client_reference")
_TO = attrgetter("to")
_API = attrgetter("api")
_CONTENT = attrgetter("content")
SCAN_CHUNK = 10_000
"""Candidates a filtered scan looks at between pauses (about 15 ms of a busy core)."""


class _AccountMessages:
    """One account's messages, oldest first, and its indexes."""

    __slots__ = (
        "by_api",
        "by_batch",
        "by_client_reference",
        "by_to",
        "by_to_covers",
        "messages",
    )

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.by_batch = MessageIndex()
        self.by_client_reference = MessageIndex()
        self.by_api = MessageIndex()
        # Filled on first use: an index by recipient costs a bulk send more than its
        # other indexes together, and most runs never ask by recipient.
        self.by_to = MessageIndex()
        self.by_to_covers = 0  # how many of ``messages`` by_to holds, oldest first

    def keep(self, kept: dict[str, Message]) -> None:
        """Drop every message not in ``kept`` and rebuild the indexes (retention)."""
        self.messages = [m for m in self.messages if m.reference in kept]
        self.by_batch, self.by_client_reference = MessageIndex(), MessageIndex()
        self.by_to, self.by_to_covers = MessageIndex(), 0
        self.by_api = MessageIndex()
        for message in self.messages:
            self.by_batch.add(message.batch_reference, message)
            self.by_client_reference.add(message.client_reference, message)
            self.by_api.add(message.api, message)

    def recipient_index(self) -> MessageIndex:
        """Messages by recipient, brought up to date with the messages added since."""
        fresh = self.messages[self.by_to_covers :]
        if fresh:
            self.by_to.add_all(list(map(_TO, fresh)), fresh)
            self.by_to_covers = len(self.messages)
        return self.by_to


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
        self._messages: dict[str, Message] = {}
        self._accounts: dict[str, _AccountMessages] = {}
        # Every account's messages by API, oldest first: the inbox's API filter finds
        # its first page without passing over the other API's messages.
        self._by_api = MessageIndex()

    def add(self, messages: Sequence[Message]) -> None:
        """Add the new messages of one send (one account)."""
        if not messages:
            return
        account_id = messages[0].account_id
        data = self._accounts.get(account_id)
        if data is None:
            data = self._accounts[account_id] = _AccountMessages()
        if len(messages) == 1:  # a single send: plain adds cost less than the passes below
            [message] = messages
            self._messages[message.reference] = message
            data.by_batch.add(message.batch_reference, message)
            data.by_client_reference.add(message.client_reference, message)
            data.by_api.add(message.api, message)
            self._by_api.add(message.api, message)
            data.messages.append(message)
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
        apis = set(map(_API, messages))
        if len(apis) == 1:  # one send comes through one API
            (api,) = apis
            data.by_api.extend(api, messages)
            self._by_api.extend(api, messages)
        else:
            for message in messages:
                data.by_api.add(message.api, message)
                self._by_api.add(message.api, message)
        data.messages.extend(messages)

    def get(self, reference: str) -> Message | None:
        return self._messages.get(reference)

    def _candidates(self, query: MessageQuery) -> Iterator[Message]:
        """The smallest newest-first sequence that can hold every match."""
        if query.account_id is None:
            if query.api is not None:
                return reversed(self._by_api.get(query.api))
            return reversed(self._messages.values())
        data = self._accounts.get(query.account_id)
        if data is None:
            return iter(())
        if query.batch_reference is not None:
            return reversed(data.by_batch.get(query.batch_reference))
        if query.client_reference is not None:
            return reversed(data.by_client_reference.get(query.client_reference))
        if query.to is not None:
            return reversed(data.recipient_index().get(query.to))
        if query.api is not None:
            return reversed(data.by_api.get(query.api))
        return reversed(data.messages)

    def _indexed(self, query: MessageQuery) -> Sequence[Message] | None:
        """Every match, oldest first, when one account's list or one of its indexes holds
        exactly the matches (no other filter); ``None`` when they must be checked."""
        if (
            query.account_id is None
            or query.status is not None
            or query.is_test is not None
            or query.api is not None
            or query.text is not None
        ):
            return None
        keys = (query.batch_reference, query.client_reference, query.to)
        if sum(key is not None for key in keys) > 1:
            return None
        data = self._accounts.get(query.account_id)
        if data is None:
            return []
        if query.batch_reference is not None:
            return data.by_batch.get(query.batch_reference)
        if query.client_reference is not None:
            return data.by_client_reference.get(query.client_reference)
        if query.to is not None:
            return data.recipient_index().get(query.to)
        return data.messages

    def indexed_page(self, query: MessageQuery) -> Page[Message] | None:
        """The page at once when a list or an index holds exactly the matches, else None."""
        indexed = self._indexed(query)
        if indexed is None:
            return None
        # A slice from the end: the time of a page does not grow with the account.
        total = len(indexed)
        end = max(total - (query.page - 1) * query.page_size, 0)
        start = max(end - query.page_size, 0)
        items = list(indexed[start:end])[::-1]
        return Page(items=items, page=query.page, page_size=query.page_size, total_count=total)

    def scan(self, query: MessageQuery) -> Iterator[Message | None]:
        """The matches newest first, with a ``None`` after every ``SCAN_CHUNK`` candidates
        looked at: where a caller on the event loop lets other requests run."""
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
        candidates = self._candidates(query)
        if query.text is not None:
            candidates = _containing(candidates, query.text)
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
        matches = (m for m in self.scan(query) if m is not None)
        return paginate(matches, query.page, query.page_size, count=query.count)

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

        One pass over the account's messages, without awaiting: a report over 100,000
        messages holds the event loop for milliseconds.
        """
        data = self._accounts.get(account_id)
        if data is None:
            return []
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
        for message in messages:
            if self._messages.pop(message.reference, None) is not None:
                touched.add(message.account_id)
        for account_id in touched:
            data = self._accounts.get(account_id)
            if data is not None:
                data.keep(self._messages)
        if touched:
            self._rebuild_api_index()

    def _rebuild_api_index(self) -> None:
        self._by_api = MessageIndex()
        for message in self._messages.values():
            self._by_api.add(message.api, message)

    def reset(self, account_id: str) -> None:
        """Forget one account's messages."""
        data = self._accounts.pop(account_id, None)
        if data is not None:
            for message in data.messages:
                self._messages.pop(message.reference, None)
            self._rebuild_api_index()
