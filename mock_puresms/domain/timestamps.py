"""Mock-clock instants are integer milliseconds since the Unix epoch, rendered ISO-8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_ms(ms: int) -> str:
    """Render epoch milliseconds as ``2026-11-24T10:15:00.123Z``."""
    seconds, millis = divmod(ms, 1000)
    return f"{_format_second(seconds)}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _format_second(seconds: int) -> str:
    # Every response renders several timestamps, mostly of the same few seconds.
    stamp = _EPOCH + timedelta(seconds=seconds)
    # %Y does not pad years before 1000; ISO-8601 needs four digits.
    return f"{stamp.year:04d}-{stamp:%m-%dT%H:%M:%S}"


def parse_iso(text: str) -> int:
    """Read an ISO-8601 timestamp into epoch milliseconds; naive times are taken as UTC.

    Raises ``ValueError`` when the text is not a timestamp.
    """
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)
