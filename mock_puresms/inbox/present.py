"""How the inbox shows values: mock-clock times, statuses, the content as a phone shows it."""

from __future__ import annotations

from dataclasses import dataclass

from mock_puresms.domain.encoding import forces_ucs2, split_segments
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms

STATUSES = tuple(DeliveryStatus)


def clock_text(ms: int | None, today: int) -> str:
    """``HH:MM:SS`` in UTC on the mock clock, after the date when it is not ``today``'s."""
    if ms is None:
        return ""
    # format_ms caches each second's text: a page of 50 rows builds no datetime.
    stamp = format_ms(ms)
    if stamp[:10] == format_ms(today)[:10]:
        return stamp[11:19]
    return stamp[:10] + " " + stamp[11:19]


def full_time(ms: int | None) -> str:
    """The exact instant, for a tooltip and the message page."""
    if ms is None:
        return ""
    stamp = format_ms(ms)
    return stamp[:10] + " " + stamp[11:23] + " UTC"


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
