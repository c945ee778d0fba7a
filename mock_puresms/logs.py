"""The server's logging: one configuration for uvicorn's loggers and the mock's own
(``mock_puresms``, ``mock_puresms.*``), as text for people or as one JSON object a line
for log collectors; health probes are left out of the access log at ``info``.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

PROBE_PATHS = frozenset({"/_mock/health"})
"""Paths polled by health checks (a Docker HEALTHCHECK every 10 s): not worth a line."""

BANNER_LOGGER = "mock_puresms.banner"


class HealthProbeFilter(logging.Filter):
    """Drops uvicorn's access-log records of requests to :data:`PROBE_PATHS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path with query, http version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            return args[2].partition("?")[0] not in PROBE_PATHS
        return True


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "logger", "message", ...}`` on one line.

    Fields given as ``extra={"data": {...}}`` are added to the object, and
    ``extra={"summary": ...}`` replaces a multi-line message; uvicorn's access records
    also get ``client``, ``method``, ``path`` and ``status``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": getattr(record, "summary", None) or record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            entry.update(client=client, method=method, path=path, status=status)
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            entry.update({k: v for k, v in data.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn (``uvicorn.Config(log_config=...)``).

    Text keeps uvicorn's own format (access lines on stdout, the rest on stderr); JSON
    writes everything to stderr. The mock's loggers get the same handler and ``level``.
    """
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    if fmt == "json":
        config["formatters"] = {"json": {"()": JsonFormatter}}
        for handler in config["handlers"].values():
            handler.update(formatter="json", stream="ext://sys.stderr")
        config["handlers"]["banner"] = dict(config["handlers"]["default"])
    else:
        config["formatters"]["banner"] = {"format": "%(message)s"}
        config["handlers"]["banner"] = {
            "formatter": "banner",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        }
    numeric = LOG_LEVELS[level]
    loggers = config["loggers"]
    loggers["mock_puresms"] = {"handlers": ["default"], "level": numeric, "propagate": False}
    loggers[BANNER_LOGGER] = {"handlers": ["banner"], "propagate": False}
    if level == "info":
        # Below info (debug, trace) the probes are shown: whoever asks for that much
        # may be debugging the health check itself.
        config["filters"] = {"health_probes": {"()": HealthProbeFilter}}
        loggers["uvicorn.access"]["filters"] = ["health_probes"]
    return config
