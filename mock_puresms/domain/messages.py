"""The outbound message and its history, as the store keeps it."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus

_REFERENCE_BYTES = 8

# The two PureSMS APIs a message can come from.
V1 = "v1"
CONNECT = "connect"


# References need to be unique, not secret: a PRNG seeded from the OS gives 64 bits per
# reference without a system call each (os.urandom costs a single send microseconds).
# Kept apart from the scenarios' seeded generators, so references never shift outcomes.
_references = random.Random(os.urandom(32))


def new_reference(prefix: str) -> str:
    """A server-unique, opaque, URL-safe reference: a letter and 16 random hex digits.

    64 random bits make a collision across a long-running mock (with ``--db``) negligible
    without coordinating with storage.
    """
    return f"{prefix}{_references.getrandbits(64):016X}"


# References drawn ahead for sends of one message, per prefix: one draw of many costs a
# single send less than its own formatting of one.
_DRAWN_AHEAD = 256
_drawn: dict[str, list[str]] = {}


def new_references(prefix: str, count: int) -> list[str]:
    """``count`` references at once: one random draw for a whole bulk send."""
    if count <= 0:
        return []
    if count == 1:
        drawn = _drawn.get(prefix)
        if not drawn:
            drawn = _drawn[prefix] = _draw(prefix, _DRAWN_AHEAD)
        return [drawn.pop()]
    return _draw(prefix, count)


def _draw(prefix: str, count: int) -> list[str]:
    # hex() puts a space between references and replace() a prefix after each space:
    # C-level passes, where slicing in a loop costs a bulk send milliseconds.
    bits = _references.getrandbits(64 * count).to_bytes(_REFERENCE_BYTES * count, "big")
    digits = bits.hex(" ", _REFERENCE_BYTES).upper()
    return (prefix + digits.replace(" ", " " + prefix)).split(" ")


# The current API's ids are 64-bit integers that increase and are unique across
# accounts (API.md 9.1). Like Snowflake ids, the high bits are milliseconds of wall
# time since an epoch and the low 22 bits a counter, so ids keep increasing across a
# restart of a ``--db`` mock: 19 digits today, below 2**63 until the 2080s.
_ID_EPOCH_MS = 1_420_070_400_000  # 2015-01-01
_ID_COUNTER_BITS = 22
_last_id = 0


def new_ids(count: int) -> list[str]:
    """``count`` new 64-bit ids of the current API, increasing, as digit strings."""
    global _last_id
    if count <= 0:
        return []
    floor = (time.time_ns() // 1_000_000 - _ID_EPOCH_MS) << _ID_COUNTER_BITS
    first = max(_last_id + 1, floor)
    _last_id = first + count - 1
    return list(map(str, range(first, first + count)))


class HistoryEntry(NamedTuple):
    """One status change: the status and the mock-clock time it was due."""

    status: DeliveryStatus
    at: int


PlannedStep = tuple[DeliveryStatus, int]

# ``new_entry(HistoryEntry, (status, at))`` skips the NamedTuple's Python-level __new__,
# which costs a 15,000-message bulk send several milliseconds.
new_entry = tuple.__new__


class Routing(NamedTuple):
    """The fields that decide where a message's receipts go and what they carry beside
    its reference and status. Every message of a plain bulk send has the same; a group
    event carries them once so subscribers need not look at each message."""

    account_id: str
    receipt_url: str | None
    client_reference: str | None
    batch_reference: str | None


@dataclass(slots=True, eq=False)
class Message:
    """An outbound SMS; times are mock-clock epoch milliseconds.

    Slots keep a stored message well under 1 KiB: a bulk send keeps tens of thousands.
    ``history`` starts with the initial status. ``build_messages`` builds messages from
    positional columns, so a change to the order of the fields must be made there too.

    ``pending``, ``next_due`` and ``reply_plan`` belong to the simulation: its planner
    fills them in before the message is stored (through ``MessageService.send``) and its
    engine moves them on; the domain only reads them for retention and clears the steps
    when it forces a status (``MessageService.change_status``). They live here so a
    durable store keeps them with the message and the simulation can resume after a
    restart.
    """

    reference: str
    account_id: str
    to: str
    sender: str
    content: str
    encoding: str
    segments: int
    is_test: bool
    status: DeliveryStatus
    created_at: int
    client_reference: str | None = None
    batch_reference: str | None = None
    receipt_url: str | None = None
    send_at: int | None = None
    # A tuple, replaced on each change: the messages of one send share their first one
    # (one object instead of 15,000 lists for a bulk, which the collector also scans).
    history: tuple[HistoryEntry, ...] = ()
    # The simulation's plan, kept with the message so a durable store can resume it:
    # the steps still to come (status, delay after the previous one), when the next is
    # due, and the scripted reply (delay after delivery, content) it will get, if any.
    pending: tuple[PlannedStep, ...] = ()
    next_due: int | None = None
    reply_plan: tuple[int, str] | None = None
    # Which PureSMS API sent it: "v1", or "connect" (the current API, whose messages
    # have 64-bit ids as their references and receipts as Connect events).
    api: str = V1
    client_tag: str | None = None  # the current API's reporting tag
    # A Deleted message was cancelled by its sender (the current API shows it as
    # Cancelled) rather than deleted through the control surface (Deleted).
    cancelled: bool = False
    # Opaque to the domain: where the store that holds the message keeps it (the memory
    # store's block of its status counts), so a status change is counted in O(1). Not a
    # constructor argument, so copies and rebuilt messages start without one.
    store_handle: object = field(default=None, init=False, repr=False, compare=False)

    @property
    def updated_at(self) -> int:
        """When the status last changed (the creation time for a new message)."""
        return self.history[-1].at if self.history else self.created_at

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def change_status(self, status: DeliveryStatus, at: int) -> None:
        """Move to ``status`` at mock time ``at``; final statuses never change.

        Raises ``ValueError`` when the message is already final.
        """
        if self.status.is_final:
            raise ValueError(f"message {self.reference} is already {self.status.label}")
        self.status = status
        self.history = (*self.history, HistoryEntry(status, at))


def build_messages(
    *,
    reference: Iterable[str],
    account_id: Iterable[str],
    to: Iterable[str],
    sender: Iterable[str],
    content: Iterable[str],
    encoding: Iterable[str],
    segments: Iterable[int],
    is_test: Iterable[bool],
    status: Iterable[DeliveryStatus],
    created_at: Iterable[int],
    client_reference: Iterable[str | None],
    batch_reference: Iterable[str | None],
    receipt_url: Iterable[str | None],
    send_at: Iterable[int | None],
    history: Iterable[tuple[HistoryEntry, ...]],
    pending: Iterable[tuple[PlannedStep, ...]],
    next_due: Iterable[int | None],
    reply_plan: Iterable[tuple[int, str] | None],
    api: Iterable[str],
    client_tag: Iterable[str | None],
    cancelled: Iterable[bool],
) -> list[Message]:
    """One ``Message`` per position of the columns, which are read together (pass
    ``itertools.repeat`` for a value every message shares).

    The one place that knows the order of ``Message``'s fields: the columns go to the
    constructor positionally, so one C-level ``map`` builds a whole send (building each
    message by keyword costs a 15,000-message bulk several milliseconds more).
    """
    return list(
        map(
            Message,
            reference,
            account_id,
            to,
            sender,
            content,
            encoding,
            segments,
            is_test,
            status,
            created_at,
            client_reference,
            batch_reference,
            receipt_url,
            send_at,
            history,
            pending,
            next_due,
            reply_plan,
            api,
            client_tag,
            cancelled,
        )
    )


def build_message(
    reference: str,
    account_id: str,
    to: str,
    sender: str,
    content: str,
    encoding: str,
    segments: int,
    is_test: bool,
    status: DeliveryStatus,
    created_at: int,
    client_reference: str | None,
    batch_reference: str | None,
    receipt_url: str | None,
    send_at: int | None,
    history: tuple[HistoryEntry, ...],
    pending: tuple[PlannedStep, ...],
    next_due: int | None,
    reply_plan: tuple[int, str] | None,
    api: str,
    client_tag: str | None,
    cancelled: bool,
) -> Message:
    """``build_messages`` for one message, from one value per field (a test holds the
    two to the same message): a single send spares the columns' iterators."""
    return Message(
        reference, account_id, to, sender, content, encoding, segments, is_test, status,
        created_at, client_reference, batch_reference, receipt_url, send_at, history,
        pending, next_due, reply_plan, api, client_tag, cancelled,
    )  # fmt: skip


@dataclass(slots=True, frozen=True)
class BatchSummary:
    """What ``GET /v1/Sms/Batch/{batchReference}`` reports."""

    batch_reference: str
    count: int
    created_at: int
    status_counts: dict[str, int]
