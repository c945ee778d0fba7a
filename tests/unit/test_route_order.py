"""``sends_first`` (a speed seam of ``app.py``) moves the send routes to the front of the
route table: held to the table in the order written, every request must reach the same
route, and a path no method of it matches must be answered 405 from the same route.

Starlette's router takes the first route that matches a request fully, else the first
that matches its path only (405, with that route's methods in ``Allow``): both are
compared here, for every route's path and every method.
"""

from __future__ import annotations

import re

import pytest
from starlette.routing import BaseRoute, Match

from mock_puresms.app import SEND_PATHS, all_routes, sends_first

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def dispatch(routes: list[BaseRoute], path: str, method: str) -> tuple[int, Match] | None:
    """Which route (by identity) takes the request, and how it matches."""
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return id(route), Match.FULL
        if match is Match.PARTIAL and partial is None:
            partial = (id(route), Match.PARTIAL)
    return partial


def sample_paths(routes: list[BaseRoute]) -> list[str]:
    """Each route's path with its parameters filled in (and the send paths themselves)."""
    paths = {re.sub(r"\{[^}]*\}", "x", getattr(r, "path", "")) for r in routes}
    # A parameter that could take a send path's last segment: ``/v1/Sms/{reference}``.
    paths |= {p.rsplit("/", 1)[0] + "/Send" for p in paths if p.count("/") >= 2}
    return sorted(paths | SEND_PATHS)


@pytest.mark.parametrize("admin_token", [None, "secret"])
def test_the_send_routes_first_take_every_request_the_written_order_does(
    admin_token: str | None,
) -> None:
    written = all_routes(admin_token)
    reordered = sends_first(written)
    assert sorted(map(id, reordered)) == sorted(map(id, written))
    # The send routes are in front, as the seam promises.
    fronts = [getattr(route, "path", None) for route in reordered[: len(SEND_PATHS)]]
    assert set(fronts) == SEND_PATHS
    for path in sample_paths(written):
        for method in METHODS:
            assert dispatch(reordered, path, method) == dispatch(written, path, method), (
                method,
                path,
            )
