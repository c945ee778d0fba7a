"""How the inbox shows values: mock-clock times, statuses, the content as a phone shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mock_puresms.domain.encoding import forces_ucs2, split_segments
from mock_puresms.domain.statuses import DeliveryStatus

STATUSES = tuple(DeliveryStatus)


def clock_text(ms: int | None, today: int) -> str:
    """``HH:MM:SS`` in UTC on the mock clock, after the date when it is not ``today``'s."""
    if ms is None:
        return ""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    if stamp.date() == datetime.fromtimestamp(today / 1000, UTC).date():
        return f"{stamp:%H:%M:%S}"
    return f"{stamp.year:04d}-{stamp:%m-%d %H:%M:%S}"


def full_time(ms: int | None) -> str:
    """The exact instant, for a tooltip and the message page."""
    if ms is None:
        return ""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{stamp.year:04d}-{stamp:%m-%d %H:%M:%S}.{ms % 1000:03d} UTC"


def badge_class(status: DeliveryStatus) -> str:
    """The CSS class of a status badge (colours in static/inbox.css)."""
    return "status-" + status.label.lower()


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive characters of a segment; ``forced`` when they forced UCS-2."""

    text: str
    forced: bool


def phone_segments(content: str, encoding: str) -> list[list[Run]]:
    """The content cut into its segments, each as runs of characters, the ones that
    forced UCS-2 set apart (only a UCS-2 body has them)."""
    ucs2 = encoding.upper() == "UCS2"
    segments: list[list[Run]] = []
    for segment in split_segments(content):
        runs: list[Run] = []
        for char in segment:
            forced = ucs2 and forces_ucs2(char)
            if runs and runs[-1].forced == forced:
                runs[-1] = Run(runs[-1].text + char, forced)
            else:
                runs.append(Run(char, forced))
        segments.append(runs)
    return segments
