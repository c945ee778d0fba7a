"""The start-up banner: what a newcomer needs once the server listens, in one block.

Logged through ``mock_puresms.banner`` (so ``--log-level warning`` hides it and
``--log-format json`` makes it one JSON object with the same facts as fields).
"""

from __future__ import annotations

import logging
from typing import Any

from mock_puresms.config_file import ConfigFile
from mock_puresms.listening import hostport, url_for
from mock_puresms.logs import BANNER_LOGGER
from mock_puresms.settings import Settings
from mock_puresms.version import __version__


def banner_facts(settings: Settings, config: ConfigFile, port: int) -> dict[str, Any]:
    """What the banner says, as data (the fields of its JSON form)."""
    base = url_for(settings.host, port)
    clock: str = settings.clock
    if clock == "real" and settings.time_scale != 1:
        clock = f"real, {settings.time_scale:g}x wall time"
    elif clock == "virtual":
        clock = "virtual (moves only by POST /_mock/clock/advance)"
    return {
        "version": __version__,
        "listening": f"http://{hostport(settings.host, port)}",
        "url": base,
        "inbox": f"{base}/",
        "docs": f"{base}/swagger",
        "scenario": settings.scenario,
        "clock": clock,
        "mode": (
            f"strict ({len(config.accounts)} configured accounts)"
            if config.accounts
            else "open (any API key gets its own account)"
        ),
        "database": str(settings.db) if settings.db is not None else "in memory",
        "adminToken": settings.admin_token is not None,
    }


def banner_text(facts: dict[str, Any]) -> str:
    """The block people read, one fact a line."""
    listening = facts["listening"]
    where = "" if listening == facts["url"] else f" (listening on {listening})"
    rows = [
        ("inbox", facts["inbox"]),
        ("API docs", facts["docs"]),
        ("scenario", facts["scenario"]),
        ("clock", facts["clock"]),
        ("mode", facts["mode"]),
        ("database", facts["database"]),
        ("admin token", "on (/_mock needs it)" if facts["adminToken"] else "off"),
    ]
    lines = [f"mock-puresms {facts['version']} ready at {facts['url']}{where}"]
    lines += [f"  {label:<12}{value}" for label, value in rows]
    return "\n".join(lines)


def log_banner(settings: Settings, config: ConfigFile, port: int) -> None:
    facts = banner_facts(settings, config, port)
    text = banner_text(facts)
    summary = text.partition("\n")[0]
    logging.getLogger(BANNER_LOGGER).info(text, extra={"data": facts, "summary": summary})
