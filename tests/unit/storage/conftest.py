"""Stores to run the storage tests on: memory, SQLite, SQLite read back after a
restart (its reads come from the file written before), and SQLite read back while it
still loads the file in the background."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_kinds import Stores


@pytest.fixture(params=["memory", "sqlite", "sqlite-restarted", "sqlite-loading"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    return Stores(request.param, tmp_path / "mock.db")
