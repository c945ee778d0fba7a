"""Fixtures of the current API's tests: mocks built from a config file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from inprocess import Mock


@pytest.fixture
def configured(make_mock: Callable[..., Mock], tmp_path: Path) -> Callable[..., Mock]:
    """Build a mock from a config file's content (a dict)."""

    def build(config: dict[str, Any], **settings: Any) -> Mock:
        path = tmp_path / f"config-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return make_mock(config=path, **settings)

    return build
