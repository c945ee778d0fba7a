"""A real uvicorn server in a background thread, on a loopback port (tests and the plugin)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from mock_puresms.app import create_app
from mock_puresms.connections import limited_protocol
from mock_puresms.server import MockServer
from mock_puresms.settings import Settings


class _QuietServer(MockServer):
    # The host process (pytest) owns the signals.
    def install_signal_handlers(self) -> None:
        return None


class ServerThread:
    """Serve ``create_app(settings)`` on 127.0.0.1 (a free port unless one is set).

    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, settings: Settings | None = None, app: Starlette | None = None) -> None:
        self.settings = settings or Settings(port=0)
        self.app = app or create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=False,  # not shown at "warning"; uvicorn would format it anyway
            lifespan="on",
            http=limited_protocol(self.settings),
        )
        self._server = _QuietServer(config)
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), name="mock-puresms", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("mock-puresms: the server did not start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
