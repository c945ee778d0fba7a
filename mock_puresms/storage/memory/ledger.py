"""Counts of messages by status, test flag and API, kept per block of the creation order.

Every message of the store sits in one block of ``BLOCK_SIZE`` messages (oldest block
first, across accounts), and the ledger counts per block how many messages of each
*kind* (status x test flag x API, see ``kind``) each account and the whole store hold
there. A list filtered on those fields so counts its ``totalCount`` by adding up to 40
totals, and finds its page by adding block counts in C (``accumulate``) and looking only
at the blocks that hold the page: its time does not grow with the account.

A message points at its block (``Message.store_handle``), so a status change moves one
count from the old kind to the new one in O(1) (``moved``); the old status is the one
before the last history entry, which a status change has just appended.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, repeat, zip_longest
from operator import attrgetter, is_, itemgetter

from mock_puresms.domain.messages import CONNECT, Message
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.statuses import DeliveryStatus

BLOCK_SIZE = 128
"""Messages per block: a page of 1,000 spread over 1,000 blocks reads 128,000 messages at
most (a few ms); 1,000,000 messages make 7,813 blocks, which ``accumulate`` adds in
well under a millisecond per kind."""

EMPTY_BLOCKS_KEPT = 64
"""Oldest blocks left empty (by retention) before they are dropped and the rest renumbered."""

KINDS = 40  # 10 statuses x test or not x v1 or connect
ALL = KINDS  # the count of every kind at once: an unfiltered list adds one array

_HANDLE = attrgetter("store_handle")
_ACCOUNT = attrgetter("account_id")
_STATUS = attrgetter("status")
_IS_TEST = attrgetter("is_test")
_API = attrgetter("api")
_HISTORY = attrgetter("history")
_PREVIOUS = itemgetter(-2)
_ENTRY_STATUS = itemgetter(0)
_KIND_FIELDS = (_ACCOUNT, _STATUS, _IS_TEST, _API)
_SHARED_FIELDS = (_HISTORY, _ACCOUNT, _IS_TEST, _API)


def kind(status: int, is_test: bool, api: str) -> int:
    """The counter a message of this status, test flag and API is counted under."""
    return status * 4 + is_test * 2 + (api == CONNECT)


def kinds_of(query: MessageQuery) -> list[int]:
    """The kinds a query's status, test and API filters accept (``[ALL]`` for any)."""
    if query.status is None and query.is_test is None and query.api is None:
        return [ALL]
    statuses = list(DeliveryStatus) if query.status is None else [query.status]
    tests = (False, True) if query.is_test is None else (query.is_test,)
    apis = ("v1", CONNECT) if query.api is None else (query.api,)
    return [kind(s, t, a) for s in statuses for t in tests for a in apis]


class Block:
    """Up to ``BLOCK_SIZE`` messages, oldest first, and where the block stands."""

    __slots__ = ("index", "items", "owner")

    def __init__(self, owner: Ledger, index: int) -> None:
        self.owner = owner
        self.index = index
        self.items: list[Message] = []


class _Scope:
    """The counts of one account (or of every account): per kind, per block and in all.

    The block counts start at the scope's first block (``first``): an account that sent
    its few messages late in a long run holds no counts for the blocks before them. They
    are 16-bit (a block holds at most ``BLOCK_SIZE``), so 1,000,000 messages cost each
    scope 16 KB per kind it has.
    """

    __slots__ = ("blocks", "first", "totals")

    def __init__(self, first: int) -> None:
        self.first = first
        self.totals = [0] * (KINDS + 1)
        self.blocks: dict[int, array[int]] = {}

    def add(self, kind_: int, block: int, count: int) -> None:
        counts = self.blocks.get(kind_)
        if counts is None:
            counts = self.blocks[kind_] = array("h")
        at = block - self.first
        if len(counts) <= at:
            counts.extend(repeat(0, at + 1 - len(counts)))
        counts[at] += count
        self.totals[kind_] += count

    def per_block(self, kinds: Sequence[int]) -> Sequence[int]:
        """How many messages of ``kinds`` each block from ``first`` on holds (shorter:
        the blocks after the end hold none)."""
        present = [self.blocks[k] for k in kinds if k in self.blocks]
        if len(present) == 1:
            return present[0]
        return list(map(sum, zip_longest(*present, fillvalue=0)))

    def drop_blocks(self, count: int) -> None:
        """Forget the first ``count`` blocks of the ledger (all empty): indexes shift."""
        if self.first >= count:
            self.first -= count
            return
        for counts in self.blocks.values():
            del counts[: count - self.first]
        self.first = 0


class Ledger:
    """Every message of a store in blocks of the creation order, with its counts."""

    def __init__(self) -> None:
        self._blocks: list[Block] = []
        self._scopes: dict[str | None, _Scope] = {None: _Scope(0)}

    # ---- keeping the counts ---------------------------------------------------------

    def add(self, messages: Sequence[Message]) -> None:
        """Place new messages (newer than every message held) and count them."""
        if not messages:
            return
        blocks = self._blocks
        if len(messages) == 1:  # a single send: placed and counted without the passes
            [message] = messages
            if not blocks or len(blocks[-1].items) >= BLOCK_SIZE:
                blocks.append(Block(self, len(blocks)))
            block = blocks[-1]
            block.items.append(message)
            message.store_handle = block
            k = kind(message.status, message.is_test, message.api)
            self._count_kind(block.index, message.account_id, k, 1)
            return
        # Checked once for the whole send rather than block by block: a 15,000-message
        # bulk spans over a hundred blocks, each otherwise paying for its own passes.
        shared = _shared_kind(messages)
        done = 0
        while done < len(messages):
            if not blocks or len(blocks[-1].items) >= BLOCK_SIZE:
                blocks.append(Block(self, len(blocks)))
            block = blocks[-1]
            part = messages[done : done + BLOCK_SIZE - len(block.items)]
            block.items.extend(part)
            deque(map(setattr, part, repeat("store_handle"), repeat(block)), maxlen=0)
            self._count(block.index, part, 1, shared)
            done += len(part)

    def _count(
        self, block: int, messages: Sequence[Message], sign: int, shared: _Kind | None = None
    ) -> None:
        # One send's messages share account, test flag and API, and mostly their status:
        # a Counter over the columns (in C) leaves one update per distinct combination.
        # ``shared``: the caller found that every message has that one combination.
        combo = shared or _shared_kind(messages)
        if combo is not None:
            combos: Mapping[_Kind, int] = {combo: len(messages)}
        else:
            combos = Counter(
                zip(map(_ACCOUNT, messages), map(_STATUS, messages), map(_IS_TEST, messages),
                    map(_API, messages), strict=True)
            )  # fmt: skip
        for (account_id, status, is_test, api), count in combos.items():
            self._count_kind(block, account_id, kind(status, is_test, api), sign * count)

    def _count_kind(self, block: int, account_id: str, kind_: int, count: int) -> None:
        """Add ``count`` (negative: take away) to a kind in the account and in the store."""
        for target in (self._scope(account_id), self._scopes[None]):
            target.add(kind_, block, count)
            target.add(ALL, block, count)

    def _scope(self, account_id: str) -> _Scope:
        scope = self._scopes.get(account_id)
        if scope is None:
            scope = self._scopes[account_id] = _Scope(max(len(self._blocks) - 1, 0))
        return scope

    def moved(self, messages: Sequence[Message]) -> None:
        """Count each message under its new status instead of the one before it.

        Called once for every status change a store is told of (``save_messages``): the
        last history entry is the new status, the one before it the counted one.
        """
        try:
            combos = _changes(messages)
        except IndexError:  # a message without a status before (never a status change)
            combos = _changes([m for m in messages if len(m.history) >= 2])
        everyone = self._scopes[None]
        for (block, account_id, old, new, is_test, api), count in combos.items():
            # A message no longer held (reset, retention) may still be moved on by the
            # simulation: it counts nowhere any more.
            if old == new or not isinstance(block, Block) or block.owner is not self:
                continue
            scope = self._scope(account_id)
            before, after = kind(old, is_test, api), kind(new, is_test, api)
            for target in (scope, everyone):
                target.add(before, block.index, -count)
                target.add(after, block.index, count)

    def remove(self, messages: Iterable[Message]) -> None:
        """Take messages out of their blocks and their counts (retention, resets)."""
        by_block: dict[Block, list[Message]] = {}
        for message in messages:
            block = message.store_handle
            if isinstance(block, Block) and block.owner is self:
                by_block.setdefault(block, []).append(message)
        for block, gone in by_block.items():
            self._count(block.index, gone, -1)
            doomed = set(map(id, gone))
            block.items = [m for m in block.items if id(m) not in doomed]
            for message in gone:
                message.store_handle = None
        self._compact()

    def _compact(self) -> None:
        """Forget the scopes of accounts left without messages and, once retention has
        emptied enough of the oldest blocks, those blocks: a long run with
        ``--max-messages`` keeps as many blocks as it keeps messages."""
        for account_id in [a for a, s in self._scopes.items() if a and not s.totals[ALL]]:
            del self._scopes[account_id]
        everyone = self._scopes[None].blocks.get(ALL)
        if everyone is None:
            return
        empty = next((i for i, count in enumerate(everyone) if count), len(everyone))
        if empty < EMPTY_BLOCKS_KEPT:
            return
        del self._blocks[:empty]
        for block in self._blocks:
            block.index -= empty
        for scope in self._scopes.values():
            scope.drop_blocks(empty)

    # ---- reading --------------------------------------------------------------------

    def total(self, account_id: str | None, kinds: Sequence[int]) -> int:
        scope = self._scopes.get(account_id)
        return 0 if scope is None else sum(scope.totals[k] for k in kinds)

    def newest(self, account_id: str | None, kinds: Sequence[int], skip: int) -> Iterator[Message]:
        """The messages of ``kinds`` (of the account, or of all), newest first, after
        the newest ``skip`` of them: whole blocks are skipped by their counts."""
        scope = self._scopes.get(account_id)
        if scope is None:
            return iter(())
        counts = scope.per_block(kinds)
        first = scope.first
        # How many matches the blocks from the newest down to each one hold.
        running = list(accumulate(reversed(counts)))
        if not running or running[-1] <= skip:
            return iter(())
        past = bisect_right(running, skip)  # blocks from the newest that hold the skipped
        skip -= running[past - 1] if past else 0
        start = len(counts) - 1 - past
        matches = _matcher(account_id, kinds)
        return self._walk(counts, first, start, skip, matches)

    def _walk(
        self,
        counts: Sequence[int],
        first: int,
        start: int,
        skip: int,
        matches: Callable[[Message], bool],
    ) -> Iterator[Message]:
        blocks = self._blocks
        for index in range(start, -1, -1):
            if not counts[index]:
                continue
            items = blocks[first + index].items
            if counts[index] == len(items):  # every message of the block matches
                found = items[::-1]
            else:
                found = [m for m in reversed(items) if matches(m)]
            if skip:
                found, skip = found[skip:], 0
            yield from found

    def position(self, message: Message) -> tuple[int, int]:
        """Where a held message stands in the order of creation (a sort key)."""
        block = message.store_handle
        assert isinstance(block, Block)
        return block.index, block.items.index(message)


_Change = tuple[object, str, DeliveryStatus, DeliveryStatus, bool, str]


_Kind = tuple[str, DeliveryStatus, bool, str]


def _shared_kind(messages: Sequence[Message]) -> _Kind | None:
    """The account, status, test flag and API every message has, or ``None`` when they
    differ. One column per field and ``list.count`` (in C, identity first: one send's
    messages share the very objects) cost less than a ``Counter``'s tuples (a single
    send pays for the Counter more than for the rest of its counting)."""
    first = messages[0]
    combo = (first.account_id, first.status, first.is_test, first.api)
    count = len(messages)
    if count == 1 or all(
        list(map(getter, messages)).count(value) == count
        for getter, value in zip(_KIND_FIELDS, combo, strict=True)
    ):
        return combo
    return None


def _uniform(
    messages: Sequence[Message],
    getters: Sequence[Callable[[Message], object]],
    values: Sequence[object],
) -> bool:
    """Whether every message holds the very ``values`` objects (identity, in C)."""
    return all(
        all(map(is_, map(getter, messages), repeat(value)))
        for getter, value in zip(getters, values, strict=True)
    )


def _changes(messages: Sequence[Message]) -> Mapping[_Change, int]:
    # Columns read in C: a simulation step moves up to 15,000 messages at once. Those
    # that moved together share their history tuple, account, test flag and API objects
    # (identity passes say so): then only their blocks differ.
    if not messages:
        return {}
    first = messages[0]
    shared = (first.history, first.account_id, first.is_test, first.api)
    if _uniform(messages, _SHARED_FIELDS, shared):
        rest = (first.account_id, first.history[-2][0], first.status, first.is_test, first.api)
        if len(messages) == 1:
            return {(first.store_handle, *rest): 1}
        if all(map(is_, map(_STATUS, messages), repeat(first.status))):
            return {
                (block, *rest): count for block, count in Counter(map(_HANDLE, messages)).items()
            }
    return Counter(
        zip(map(_HANDLE, messages), map(_ACCOUNT, messages),
            map(_ENTRY_STATUS, map(_PREVIOUS, map(_HISTORY, messages))),
            map(_STATUS, messages), map(_IS_TEST, messages), map(_API, messages), strict=True)
    )  # fmt: skip


def _matcher(account_id: str | None, kinds: Sequence[int]) -> Callable[[Message], bool]:
    accepted = frozenset(kinds)
    if ALL in accepted:
        if account_id is None:
            return lambda m: True
        return lambda m: m.account_id == account_id
    if account_id is None:
        return lambda m: kind(m.status, m.is_test, m.api) in accepted
    return lambda m: m.account_id == account_id and kind(m.status, m.is_test, m.api) in accepted
