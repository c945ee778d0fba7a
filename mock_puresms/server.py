"""The uvicorn server that runs an app made by ``create_app`` (``serve`` and tests)."""

from __future__ import annotations

import socket

import uvicorn

from mock_puresms.app import MockApp


class MockServer(uvicorn.Server):
    """uvicorn's server for an app made by ``create_app``.

    uvicorn waits for every open response before it stops; this server first ends the
    mock's long-lived ones (event streams, long polls, injected delays), so a connected
    ``/_mock/events`` client cannot hold a shutdown up.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        app = self.config.app
        if self.started and isinstance(app, MockApp):
            listening = [
                sock.getsockname()[:2] for server in self.servers for sock in server.sockets
            ]
            app.mock.listening_on([(str(host), int(port)) for host, port in listening])

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, MockApp):
            app.close_long_lived()
        await super().shutdown(sockets)
