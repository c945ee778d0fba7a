"""The current PureSMS API's view of a message's status (API.md 9.4).

One message has one v1 status; the current API (Divergent Connect) shows fewer,
coarser statuses, and tells a cancel by its sender apart from a deletion through the
control surface, which v1 shows alike (``Deleted``).
"""

from __future__ import annotations

from enum import IntEnum

from mock_puresms.domain.statuses import DeliveryStatus


class ConnectStatus(IntEnum):
    """A status as the current API names and numbers it."""

    QUEUED = 0
    DISPATCHED = 1
    FAILED = 2
    EXPIRED = 3
    REJECTED = 4
    CANCELLED = 5
    DELETED = 6
    DELIVERED = 7

    @property
    def label(self) -> str:
        """The PascalCase name (``Delivered``)."""
        return self.name.capitalize()


_VIEW = {
    DeliveryStatus.SCHEDULED: ConnectStatus.QUEUED,
    DeliveryStatus.ACCEPTED: ConnectStatus.QUEUED,
    DeliveryStatus.ENROUTE: ConnectStatus.DISPATCHED,
    DeliveryStatus.UNDELIVERABLE: ConnectStatus.FAILED,
    DeliveryStatus.UNKNOWN: ConnectStatus.FAILED,
    DeliveryStatus.SKIPPED: ConnectStatus.FAILED,
    DeliveryStatus.EXPIRED: ConnectStatus.EXPIRED,
    DeliveryStatus.REJECTED: ConnectStatus.REJECTED,
    DeliveryStatus.DELETED: ConnectStatus.DELETED,
    DeliveryStatus.DELIVERED: ConnectStatus.DELIVERED,
}

_ERROR_CODES = {
    DeliveryStatus.UNDELIVERABLE: "Undeliverable",
    DeliveryStatus.UNKNOWN: "Unknown",
    DeliveryStatus.SKIPPED: "OptedOut",
    DeliveryStatus.EXPIRED: "Expired",
    DeliveryStatus.REJECTED: "Rejected",
}


def connect_status(status: DeliveryStatus, cancelled: bool = False) -> ConnectStatus:
    """The current API's status for v1 ``status``; ``cancelled``: a ``Deleted`` message
    was cancelled by its sender (``Cancelled``), not deleted (``Deleted``)."""
    if status is DeliveryStatus.DELETED and cancelled:
        return ConnectStatus.CANCELLED
    return _VIEW[status]


def error_code(status: DeliveryStatus) -> str | None:
    """``errorCode`` of the current API: why a message failed, expired or was rejected."""
    return _ERROR_CODES.get(status)
