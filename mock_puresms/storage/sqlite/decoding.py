"""Messages read back from stored sends, sharing the values messages have in common.

``rows.messages_of`` is the plain decoding; ``SendDecoder.messages`` gives the same
messages (a test holds them to it) but, over a file of a million messages, in a fraction
of the time and memory: a value many messages share (the sender, the content, the
creation time of a bulk, a history that a whole simulation step wrote alike) becomes one
object they all point at instead of one copy each, and a stored history already decoded
is not decoded again. A loaded message so costs less memory than one built by a send.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import repeat
from typing import Any, TypeVar

import orjson

from mock_puresms.domain.messages import V1, HistoryEntry, Message, PlannedStep, build_messages
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.sqlite.rows import Row

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# Columns whose values repeat between messages (a bulk's sender, content and creation
# time; a batch): each distinct value is kept once. Recipients and references are unique.
_SHARED_COLUMNS = (
    "sender", "content", "encoding", "segments", "created_at", "client_reference",
    "batch_reference", "receipt_url", "send_at",
)  # fmt: skip
CACHE_MOST = 50_000
"""Entries a cache of decoded values holds before it starts again: the values a whole
file shares are few, and a file of distinct ones must not grow a cache without end."""


_MISSING = object()
# DeliveryStatus(number) runs Python code in the Enum machinery; a dict lookup runs in C.
_STATUS = {int(status): status for status in DeliveryStatus}


def _entry(status: int, at: int) -> HistoryEntry:
    return HistoryEntry(_STATUS[status], at)


def _history(stored: Sequence[Sequence[int]]) -> tuple[HistoryEntry, ...]:
    return tuple(_entry(s, at) for s, at in stored)


def _pending(stored: Sequence[Sequence[int]] | None) -> tuple[PlannedStep, ...]:
    return tuple((DeliveryStatus(s), after) for s, after in stored or ())


def _reply_plan(stored: Sequence[Any] | None) -> tuple[int, str] | None:
    return (stored[0], stored[1]) if stored else None


class _Cache:
    """Decoded values by their stored form (text from SQLite: hashable), bounded."""

    __slots__ = ("_decode", "_values")

    def __init__(self, decode: Callable[[Any], Any]) -> None:
        self._decode = decode
        self._values: dict[Any, Any] = {}

    def column(self, stored: Sequence[Any]) -> list[Any]:
        """Each stored value decoded, equal ones to one object."""
        values = self._values
        found = list(map(values.get, stored, repeat(_MISSING)))
        if _MISSING in found:
            if len(values) > CACHE_MOST:
                values.clear()
            decode = self._decode
            for index, value in enumerate(found):
                if value is _MISSING:
                    raw = stored[index]
                    value = values.get(raw, _MISSING)
                    if value is _MISSING:
                        value = values[raw] = decode(raw)
                    found[index] = value
        return found


def _json_or_none(decode: Callable[[Any], T]) -> Callable[[Any], T]:
    return lambda text: decode(orjson.loads(text) if text else None)


def _runs(stored: list[Any], decode: Callable[[Any], T]) -> list[T]:
    """``decode`` of each value of a send's column (JSON lists, not hashable): once for
    a run of equal values, which a send's messages mostly are."""
    first = stored[0]
    if stored.count(first) == len(stored):
        return [decode(first)] * len(stored)
    out: list[T] = []
    previous: Any = object()
    value: Any = None
    for item in stored:
        if item != previous:
            previous, value = item, decode(item)
        out.append(value)
    return out


class _Columns:
    """A send's fields, each decoded from its JSON text when first asked for."""

    __slots__ = ("_text",)

    def __init__(self, text: dict[str, str]) -> None:
        self._text = text

    def __getitem__(self, name: str) -> Any:
        return orjson.loads(self._text[name])

    def get(self, name: str, default: Any = None) -> Any:
        text = self._text.get(name)
        return default if text is None else orjson.loads(text)


class SendDecoder:
    """Builds the messages of stored sends, one send after another (one thread)."""

    def __init__(self) -> None:
        self._histories = _Cache(_json_or_none(_history))
        self._pending = _Cache(_json_or_none(_pending))
        self._replies = _Cache(_json_or_none(_reply_plan))
        self._shared: dict[str, dict[Any, Any]] = {name: {} for name in _SHARED_COLUMNS}
        self._accounts: dict[str, str] = {}

    def _share(self, name: str, column: list[K]) -> list[K]:
        """The column with each value replaced by the one object kept for it."""
        kept = self._shared[name]
        if len(kept) > CACHE_MOST:
            kept.clear()
        first = column[0]
        if column.count(first) == len(column):  # a bulk's: one lookup
            return [kept.setdefault(first, first)] * len(column)
        return list(map(kept.setdefault, column, column))

    def messages(
        self, account_id: str, columns: dict[str, str], changed: Sequence[Row]
    ) -> list[Message]:
        """The messages of one stored send, like ``rows.messages_of``: ``columns`` is
        the send's body a field at a time, each field's JSON text (as SQLite's
        ``json_each`` splits it, so that no one decoding holds the interpreter for long),
        and ``changed`` the ``message_state`` of its messages whose state changed since,
        in order: (position in the send, status, history, pending, next_due, reply_plan,
        cancelled) as stored."""
        body = _Columns(columns)
        references: list[str] = body["reference"]
        count = len(references)
        cancelled: list[bool] | None = None
        if len(changed) == count:  # the usual file after a run: every message moved on
            # The body's state columns are out of date for all: they are not decoded.
            _, status, history, steps, due, replies, gone = zip(*changed, strict=True)
            statuses, next_due = list(status), list(due)
            histories = self._histories.column(history)
            pending = self._pending.column(steps)
            reply_plan = self._replies.column(replies)
            if any(gone):
                cancelled = list(map(bool, gone))
        else:
            statuses = body["status"]
            histories = _runs(body["history"], _history)
            pending = _runs(body["pending"], _pending)
            next_due = body["next_due"]
            reply_plan = _runs(body["reply_plan"], _reply_plan)
            for index, status_, history_, steps_, due_, replies_, gone_ in changed:
                statuses[index] = status_
                [histories[index]] = self._histories.column((history_,))
                [pending[index]] = self._pending.column((steps_,))
                next_due[index] = due_
                [reply_plan[index]] = self._replies.column((replies_,))
                if gone_:
                    if cancelled is None:
                        cancelled = [False] * count
                    cancelled[index] = True
        share = self._share
        return build_messages(
            reference=references,
            account_id=repeat(self._accounts.setdefault(account_id, account_id)),
            to=body["to"],
            sender=share("sender", body["sender"]),
            content=share("content", body["content"]),
            encoding=share("encoding", body["encoding"]),
            segments=share("segments", body["segments"]),
            is_test=map(bool, body["is_test"]),
            status=map(_STATUS.__getitem__, statuses),
            created_at=share("created_at", body["created_at"]),
            client_reference=share("client_reference", body["client_reference"]),
            batch_reference=share("batch_reference", body["batch_reference"]),
            receipt_url=share("receipt_url", body["receipt_url"]),
            send_at=share("send_at", body["send_at"]),
            history=histories,
            pending=pending,
            next_due=next_due,
            reply_plan=reply_plan,
            # json_each gives a text value as it is, not as JSON.
            api=repeat(columns.get("api", V1)),
            client_tag=body.get("client_tag") or repeat(None),
            cancelled=cancelled or repeat(False),
        )
