"""``FrontRoutes`` (a speed seam of ``web/routing.py``) finds the send routes by a
dictionary lookup before Starlette's router: held to the router alone, every request
must reach the same route with the same scope, or be refused the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_puresms.app import SEND_PATHS, all_routes, sends_first
from mock_puresms.web.routing import FrontRoutes

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")


def recording(routes: list[BaseRoute], seen: list[Any]) -> None:
    """Each route's app records which route was reached and what the scope said."""
    for route in routes:
        if not isinstance(route, Route):
            continue

        def app(scope: Scope, receive: Receive, send: Send, route: Route = route) -> Any:
            seen.append(
                (id(route), scope["route"] is route, scope["endpoint"], scope["path_params"])
            )
            return asyncio.sleep(0)

        route.app = app


async def _receive() -> Any:
    raise AssertionError("no route reads the body here")


async def _send(message: Any) -> None:
    raise AssertionError("no route answers here")


def paths() -> list[str]:
    variants = set()
    for path in SEND_PATHS:
        variants |= {path, path + "/", path.lower(), path.upper(), path + "x", "/x" + path}
        # Below a root path that is the first segment: the same full path as a send's.
        variants.add("/" + path.split("/", 2)[2])
    return sorted(variants | {"/", "/v1/Sms/M0123", "/_mock/health"})


@pytest.mark.parametrize("root_path", ["", "/prefix", "/v1", "/sms"])
def test_the_lookup_reaches_the_route_the_router_reaches(root_path: str) -> None:
    routes = sends_first(all_routes(None))
    router = Router(routes)
    seen: list[Any] = []
    recording(routes, seen)
    front = FrontRoutes(router, SEND_PATHS)
    assert set(front.front) == SEND_PATHS
    for path in paths():
        for method in METHODS:
            seen.clear()
            by_router = _outcome(router, path, method, root_path, seen)
            seen.clear()
            by_lookup = _outcome(front, path, method, root_path, seen)
            assert by_lookup == by_router, (method, root_path + path)


def _outcome(app: ASGIApp, path: str, method: str, root_path: str, seen: list[Any]) -> Any:
    scope: dict[str, Any] = {
        "type": "http",
        "path": root_path + path,
        "root_path": root_path,
        "method": method,
        "headers": [],
        "query_string": b"",
        "app": object(),  # as under an app: the router raises 404 and 405 as exceptions
    }
    try:
        asyncio.run(app(scope, _receive, _send))
    except HTTPException as exc:
        return ("refused", exc.status_code, exc.headers)
    return list(seen)


def test_only_routes_at_the_front_of_the_table_are_looked_up() -> None:
    # A send route behind another route is left to the router: an earlier route
    # could take its requests.
    routes = sends_first(all_routes(None))
    behind = [routes[-1], *routes]
    front = FrontRoutes(Router(behind), SEND_PATHS)
    assert front.front == {}
