"""Shared fixtures: an in-process client, and a real server on a loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from inprocess import Mock
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.testing.server_thread import ServerThread


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every in-process test runs on both stores: they must behave the same."""
    kind: str = request.param
    return kind


@pytest.fixture
def make_mock(store_kind: str, tmp_path: Path) -> Iterator[Callable[..., Mock]]:
    """Build in-process mocks from settings (virtual clock unless told otherwise)."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> Mock:
        settings.setdefault("clock", "virtual")
        if store_kind == "sqlite":
            settings.setdefault("db", tmp_path / f"mock-{len(clients)}.db")
        client = TestClient(create_app(Settings(**settings)))
        client.__enter__()
        clients.append(client)
        return Mock(client)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def mock(make_mock: Callable[..., Mock]) -> Mock:
    """An in-process mock: open mode, virtual clock, default scenario."""
    return make_mock()


@pytest.fixture
def live_server() -> Iterator[Callable[..., ServerThread]]:
    """Start real uvicorn servers on loopback ports; each is stopped after the test."""
    servers: list[ServerThread] = []

    def start(**settings: Any) -> ServerThread:
        settings.setdefault("port", 0)
        settings.setdefault("clock", "virtual")
        server = ServerThread(Settings(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
