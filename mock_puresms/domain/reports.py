"""The current API's client-tag report (API.md 9.3, 9.6): messages counted by tag and day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus

DAY_MS = 86_400_000

_FAILED = frozenset(
    {
        DeliveryStatus.UNDELIVERABLE,
        DeliveryStatus.UNKNOWN,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.REJECTED,
    }
)


@dataclass(frozen=True, slots=True)
class Pricing:
    """What one segment costs, for receipts and reports; ``None`` when not configured."""

    gbp_per_segment: float | None = None
    eur_per_segment: float | None = None


@dataclass(slots=True)
class TagSummary:
    """One tag's messages created on one UTC day (``day``: days since the epoch)."""

    client_tag: str | None
    day: int
    sent_count: int = 0
    delivered_count: int = 0
    failed_count: int = 0
    total_segments: int = 0
    charged_segments: int = 0  # segments of the messages that cost something

    def cost(self, per_segment: float | None) -> float:
        """The cost at ``per_segment``, 0 without a price; rounded to a hundredth of a penny."""
        if per_segment is None:
            return 0.0
        return round(self.charged_segments * per_segment, 4)


def client_tag_report(
    messages: Iterable[Message], client_tag: str | None, *, any_tag: bool
) -> list[TagSummary]:
    """One summary per tag and day of creation, by day then tag (untagged first).

    ``any_tag``: every tag, untagged messages under ``None``; otherwise only ``client_tag``.
    A cancelled message is not counted as sent; a Skipped (opted-out) or test message
    costs nothing, as neither is charged credits.
    """
    summaries: dict[tuple[str | None, int], TagSummary] = {}
    for message in messages:
        tag = message.client_tag
        if (not any_tag and tag != client_tag) or message.cancelled:
            continue
        day = message.created_at // DAY_MS
        summary = summaries.get((tag, day))
        if summary is None:
            summary = summaries[(tag, day)] = TagSummary(tag, day)
        summary.sent_count += 1
        summary.total_segments += message.segments
        status = message.status
        if status is DeliveryStatus.DELIVERED:
            summary.delivered_count += 1
        elif status in _FAILED:
            summary.failed_count += 1
        if status is not DeliveryStatus.SKIPPED and not message.is_test:
            summary.charged_segments += message.segments
    return sorted(summaries.values(), key=_order)


def _order(summary: TagSummary) -> tuple[int, bool, str]:
    """By day, then untagged first, then by tag."""
    return (summary.day, summary.client_tag is not None, summary.client_tag or "")
