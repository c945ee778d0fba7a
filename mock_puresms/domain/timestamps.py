"""Mock-clock instants are integer milliseconds since the Unix epoch, rendered ISO-8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_ms(ms: int) -> str:
    """Render epoch milliseconds as ``2026-11-24T10:15:00.123Z``."""
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


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
    return int((parsed - _EPOCH).total_seconds() * 1000)
