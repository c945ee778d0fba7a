"""Durations as people write them in scenario and config files (``250ms``, ``2s``, ``1.5h``).

Every duration is read into whole milliseconds, the unit of the mock's clock.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

UNIT_MS: dict[str, int] = {
    "ms": 1,
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
}
"""Milliseconds in one of each unit a duration may use."""

MAX_DURATION_MS = 3660 * UNIT_MS["d"]
"""The longest duration read: ten years (as far as the virtual clock may be advanced at once).
Beyond it a number is a typo, and past 28 digits it cannot even be rounded."""

_TOO_LONG = "too long: a duration must be at most 3660d (ten years)"
_HINT = "write a number and a unit (ms, s, m, h or d), e.g. 250ms, 2s, 1.5s, 5m, 1h, 2d"
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[^\d\s.]*)", re.ASCII)


def parse_duration(value: str | int | float) -> int:
    """Read a duration (``"250ms"``, ``"1.5s"``, ``"5m"``, or a bare number of seconds) as ms.

    Fractions of a millisecond are rounded to the nearest one. Raises ``ValueError``
    saying why when the value is negative, malformed or uses an unknown unit.
    """
    # bool is an int to Python, but `after: true` is a mistake, not one second.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration: {_HINT}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a duration: {_HINT}")
        if value < 0:
            raise ValueError(f"{value!r} is negative: a duration must be 0 or more")
        if value > MAX_DURATION_MS // UNIT_MS["s"]:
            raise ValueError(_TOO_LONG)  # before str(): a huge int has too many digits for it
        return _to_ms(Decimal(str(value)), UNIT_MS["s"])
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration: {_HINT}")

    text = value.strip()
    if text.startswith("-") and _DURATION.fullmatch(text[1:].lstrip()):
        raise ValueError(f"{value!r} is negative: a duration must be 0 or more")
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"{value!r} is not a duration: {_HINT}")
    unit = found["unit"] or "s"
    if unit not in UNIT_MS:
        raise ValueError(f"{value!r} has an unknown unit {unit!r}: use ms, s, m, h or d")
    try:
        number = Decimal(found["number"])
    except InvalidOperation:  # pragma: no cover - the pattern only lets decimals through
        raise ValueError(f"{value!r} is not a duration: {_HINT}") from None
    return _to_ms(number, UNIT_MS[unit])


def format_duration(ms: int) -> str:
    """Write milliseconds in the largest unit that keeps them whole (``90000`` -> ``"90s"``)."""
    if ms < 0:
        raise ValueError(f"{ms!r} is negative: a duration must be 0 or more")
    if ms == 0:
        return "0s"
    for unit in ("d", "h", "m", "s"):
        if ms % UNIT_MS[unit] == 0:
            return f"{ms // UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def _to_ms(number: Decimal, unit_ms: int) -> int:
    if number * unit_ms > MAX_DURATION_MS:
        raise ValueError(_TOO_LONG)
    return int((number * unit_ms).quantize(Decimal(1), rounding=ROUND_HALF_UP))
