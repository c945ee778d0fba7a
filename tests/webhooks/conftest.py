"""Fixtures of the webhook tests: a real receiver, and mocks tuned through a config file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mock_puresms.testing.webhook_sink import SinkServer, WebhookSink

if TYPE_CHECKING:
    from inprocess import Mock


@pytest.fixture
def receiver() -> Iterator[WebhookSink]:
    """A webhook receiver on a loopback port of its own (at its root) answering 200; the
    port is closed after the test."""
    with SinkServer() as server:
        yield server.sink(at_root=True)


@pytest.fixture
def configured(make_mock: Callable[..., Mock], tmp_path: Path) -> Callable[..., Mock]:
    """Build a mock from a config file given as YAML text (plus other settings)."""
    count = 0

    def make(config: str, **settings: Any) -> Mock:
        nonlocal count
        count += 1
        path = tmp_path / f"config-{count}.yaml"
        path.write_text(config, encoding="utf-8")
        return make_mock(config=path, **settings)

    return make
