"""The ten PureSMS delivery statuses and how users may name them."""

from __future__ import annotations

from enum import IntEnum


class DeliveryStatus(IntEnum):
    """A PureSMS delivery status; the integer is the code on the wire."""

    SCHEDULED = 0
    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8
    SKIPPED = 9

    @property
    def label(self) -> str:
        """The PascalCase name PureSMS uses (``Delivered``)."""
        return _LABELS[self]

    @property
    def is_final(self) -> bool:
        """A final status never changes again."""
        return self in FINAL_STATUSES

    @classmethod
    def parse(cls, value: object) -> DeliveryStatus:
        """Read a status given as a code (``2``, ``"2"``), a name (any case) or a member.

        Raises ``ValueError`` naming the allowed values when it is none of those.
        """
        if isinstance(value, DeliveryStatus):
            return value
        if isinstance(value, bool):
            raise ValueError(_INVALID)
        if isinstance(value, int):
            if 0 <= value <= 9:
                return cls(value)
            raise ValueError(_INVALID)
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit() and 0 <= int(text) <= 9:
                return cls(int(text))
            found = _BY_NAME.get(text.lower())
            if found is not None:
                return found
        raise ValueError(_INVALID)


FINAL_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.DELETED,
        DeliveryStatus.UNDELIVERABLE,
        DeliveryStatus.REJECTED,
        DeliveryStatus.SKIPPED,
    }
)

_LABELS = {status: status.name.capitalize() for status in DeliveryStatus}
_BY_NAME = {status.name.lower(): status for status in DeliveryStatus}
_INVALID = "a delivery status is a code from 0 to 9 or one of " + ", ".join(
    _LABELS[s] for s in DeliveryStatus
)
