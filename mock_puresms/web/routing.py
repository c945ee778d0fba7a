"""Routes matched case-insensitively with one optional trailing slash, as ASP.NET Core does."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class FlexibleRoute(Route):
    """One path, one handler per method; the path ignores case and one trailing slash.

    Keeping every method of a path on one route makes a wrong method a ``405`` whose
    ``Allow`` header lists them all.
    """

    def __init__(self, path: str, handlers: Mapping[str, Endpoint]) -> None:
        by_method = {method.upper(): handler for method, handler in handlers.items()}

        def handler_for(method: str) -> Endpoint:
            # Starlette answers HEAD wherever GET is allowed.
            return by_method["GET" if method == "HEAD" else method]

        async def dispatch(request: Request) -> Response:
            return await handler_for(request.method)(request)

        super().__init__(path, dispatch, methods=list(by_method))

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            # Starlette's ``request_response`` would also map the handler's exceptions
            # to responses, which ``RequestIdMiddleware`` does with the same handlers:
            # left to it, a request skips one wrapper and its closures.
            response = await handler_for(scope["method"])(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app
        pattern = self.path_regex.pattern
        if pattern.endswith("$"):
            pattern = pattern[:-1].rstrip("/") + "/?$"
        self.path_regex = re.compile(pattern, re.IGNORECASE)


class FrontRoutes:
    """The router, with the routes of ``paths`` found by a dictionary lookup first.

    Starlette's router tries its routes' patterns one by one; the routes most requests
    go to (the sends) are first in the table, and a request to one of their paths,
    exactly as written, with a method they take, reaches them here without a pattern
    match. Every other request goes through the router as before. Only for routes at
    the front of the table: a later route never wins over an earlier one, so the
    lookup takes the route the router would (``tests/unit/test_route_order.py``).
    """

    def __init__(self, router: Router, paths: frozenset[str]) -> None:
        self.router = router
        front: dict[str, Route] = {}
        for route in router.routes:
            if not isinstance(route, Route) or route.path not in paths:
                break
            front[route.path] = route
        self.front = front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.front.get(scope["path"]) if scope["type"] == "http" else None
        if (
            route is None
            or scope.get("root_path")
            or route.methods is None
            or scope["method"] not in route.methods
        ):
            await self.router(scope, receive, send)
            return
        # What the router puts in the scope of the route it picks.
        scope.setdefault("router", self.router)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(scope.get("path_params", {}))
        await route.app(scope, receive, send)
