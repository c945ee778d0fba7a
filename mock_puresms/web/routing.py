"""Routes matched case-insensitively with one optional trailing slash, as ASP.NET Core does."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


class FlexibleRoute(Route):
    """One path, one handler per method; the path ignores case and one trailing slash.

    Keeping every method of a path on one route makes a wrong method a ``405`` whose
    ``Allow`` header lists them all.
    """

    def __init__(self, path: str, handlers: Mapping[str, Endpoint]) -> None:
        by_method = {method.upper(): handler for method, handler in handlers.items()}

        async def dispatch(request: Request) -> Response:
            # Starlette answers HEAD wherever GET is allowed.
            method = "GET" if request.method == "HEAD" else request.method
            return await by_method[method](request)

        super().__init__(path, dispatch, methods=list(by_method))
        pattern = self.path_regex.pattern
        if pattern.endswith("$"):
            pattern = pattern[:-1].rstrip("/") + "/?$"
        self.path_regex = re.compile(pattern, re.IGNORECASE)
