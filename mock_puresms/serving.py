"""``mock-puresms serve``: check the settings, read the files, bind the sockets, then run
uvicorn and log the banner once it listens.

Every start-up failure is one line on stderr saying what to change, and one of the exit
codes of :mod:`mock_puresms.exit_codes`.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import sys
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn
from pydantic import ValidationError

from mock_puresms import collector, exit_codes
from mock_puresms.banner import log_banner
from mock_puresms.config_file import ConfigError
from mock_puresms.connections import limited_protocol
from mock_puresms.listening import ListenError, bind
from mock_puresms.logs import log_config
from mock_puresms.server import MockServer
from mock_puresms.settings import Settings
from mock_puresms.settings_errors import explain
from mock_puresms.webhooks import sender


def error(message: str) -> None:
    print(f"mock-puresms: {message}", file=sys.stderr)


def serve(flags: Mapping[str, Any]) -> int:
    """Run the server with these flags (over the environment) until it is stopped."""
    from mock_puresms.app import create_app, mock_for
    from mock_puresms.simulation.scenarios import ScenarioError
    from mock_puresms.storage.sqlite.migrations import SchemaTooNew

    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        for line in explain(exc, flags):
            error(line)
        return exit_codes.BAD_SETTINGS
    try:
        config = settings.load_config()
    except ConfigError as exc:
        for problem in exc.problems:
            error(problem.format(exc.source_name))
        return exit_codes.BAD_SETTINGS
    try:
        sockets = bind(settings.host, settings.port)
    except ListenError as exc:
        error(str(exc))
        return exit_codes.CANNOT_LISTEN
    try:
        app = create_app(settings, config=config)
    except ScenarioError as exc:
        for line in str(exc).splitlines():
            error(line)
        return _closing(sockets, exit_codes.BAD_SETTINGS)
    except (SchemaTooNew, sqlite3.Error) as exc:
        error(f"cannot use the database {settings.db} (--db / MOCK_PURESMS_DB): {exc}")
        return _closing(sockets, exit_codes.BAD_SETTINGS)
    collector.manage_for_server()
    mock_for(app).subscribe(collector.on_event)
    # After the freeze above: what the import makes and drops is the collector's to free.
    sender.import_in_background()
    port: int = sockets[0].getsockname()[1]
    server = _BannerServer(
        uvicorn.Config(
            app,
            host=settings.host,
            port=port,
            log_level=settings.log_level,
            access_log=settings.logs_requests,
            log_config=log_config(settings.log_level, settings.log_format),
            http=limited_protocol(settings),
        ),
        on_started=lambda: log_banner(settings, config, port),
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    return exit_codes.OK if server.started else exit_codes.CANNOT_LISTEN


def _closing(sockets: list[socket.socket], code: int) -> int:
    for sock in sockets:
        sock.close()
    return code


class _BannerServer(MockServer):
    """The server, calling ``on_started`` once its sockets serve."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()
