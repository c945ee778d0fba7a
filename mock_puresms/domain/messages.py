"""The outbound message and its history, as the store keeps it."""

from __future__ import annotations

import os
from base64 import b32encode
from dataclasses import dataclass, field

from mock_puresms.domain.statuses import DeliveryStatus


def new_reference(prefix: str) -> str:
    """A server-unique, opaque, URL-safe reference: a letter and 15 random base32 characters.

    80 random bits make a collision across a long-running mock (with ``--db``) negligible
    without coordinating with storage.
    """
    return prefix + b32encode(os.urandom(10)).decode("ascii")[:15]


@dataclass(slots=True)
class HistoryEntry:
    """One status change: the status and the mock-clock time it was due."""

    status: DeliveryStatus
    at: int


@dataclass(slots=True, eq=False)
class Message:
    """An outbound SMS; times are mock-clock epoch milliseconds.

    Slots keep a stored message well under 1 KiB: a bulk send keeps tens of thousands.
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
    updated_at: int = 0
    history: list[HistoryEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(HistoryEntry(self.status, self.created_at))
        if not self.updated_at:
            self.updated_at = self.created_at

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    def change_status(self, status: DeliveryStatus, at: int) -> None:
        """Move to ``status`` at mock time ``at``; final statuses never change.

        Raises ``ValueError`` when the message is already final.
        """
        if self.status.is_final:
            raise ValueError(f"message {self.reference} is already {self.status.label}")
        self.status = status
        self.updated_at = at
        self.history.append(HistoryEntry(status, at))


@dataclass(slots=True, frozen=True)
class BatchSummary:
    """What ``GET /v1/Sms/Batch/{batchReference}`` reports."""

    batch_reference: str
    count: int
    created_at: int
    status_counts: dict[str, int]
