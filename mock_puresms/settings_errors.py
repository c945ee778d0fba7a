"""One line per invalid setting, naming the flag and the environment variable and saying
what is allowed, in place of pydantic's report (which names neither and links to a web
page)."""

from __future__ import annotations

from collections.abc import Collection
from shlex import quote

from pydantic import ValidationError

ENV_PREFIX = "MOCK_PURESMS_"

ALLOWED = {
    "host": "an address or name of this machine, such as 127.0.0.1, 0.0.0.0 or ::",
    "port": "a whole number from 0 to 65535 (0 picks a free port)",
    "scenario": "a shipped scenario name or a scenario file path",
    "clock": "real or virtual",
    "time_scale": "a number above 0, such as 1, 0.5 or 60",
    "db": "a file path",
    "config": "a file path",
    "retention": "a duration: a number and a unit (ms, s, m, h or d), such as 30m, 12h or 7d",
    "max_messages": "a whole number, 1 or more",
    "header_timeout": "a number of seconds above 0, such as 10 or 0.5",
    "body_timeout": "a number of seconds above 0, such as 30",
    "max_connections": "a whole number, 1 or more",
    "admin_token": "any text",
    "log_level": "critical, error, warning, info, debug or trace",
    "log_format": "text or json",
}


def flag_of(field: str) -> str:
    """``--time-scale`` for ``time_scale``."""
    return "--" + field.replace("_", "-")


def env_of(field: str) -> str:
    """``MOCK_PURESMS_TIME_SCALE`` for ``time_scale``."""
    return ENV_PREFIX + field.upper()


def explain(error: ValidationError, flags: Collection[str] = ()) -> list[str]:
    """One line per invalid setting of ``Settings``; ``flags`` are the fields given as
    flags (the others came from the environment)."""
    lines: list[str] = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else ""
        value = detail.get("input")
        source = flag_of(field) if field in flags else env_of(field)
        shown = (
            f"{source} {quote(str(value))}" if field in flags else f"{source}={quote(str(value))}"
        )
        allowed = ALLOWED.get(field, "valid (see mock-puresms serve --help)")
        lines.append(f"invalid {shown}: {flag_of(field)} / {env_of(field)} must be {allowed}")
    return lines
