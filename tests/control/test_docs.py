"""Every control route is in the docs' control-surface table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route

from mock_puresms.control.routes import control_routes

DOCS = Path(__file__).resolve().parents[2] / "README.md"


def documented() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return text[text.index("## The control surface") :]


def routes() -> list[tuple[str, str]]:
    found = []
    for route in control_routes():
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path))
    return found


@pytest.mark.parametrize(("method", "path"), routes())
def test_the_route_is_in_the_table(method: str, path: str) -> None:
    table = documented()
    pattern = re.escape(method) + r"[^|]*`?[^|]*" + re.escape(path) + r"(?![/\w{])"
    assert re.search(pattern, table), f"{method} {path} is missing from {DOCS.name}"
