"""``create_app(settings)``: one independent mock server per call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.docs import routes as docs_routes
from mock_puresms.api.middleware import RequestIdMiddleware
from mock_puresms.api.problems import ProblemError, problem_response
from mock_puresms.api.routes import v1_routes
from mock_puresms.control.faults import FaultMiddleware
from mock_puresms.control.routes import control_routes
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.runtime import Runtime, build_runtime
from mock_puresms.settings import ConfigFile, Settings
from mock_puresms.webhooks.sender import WebhookSender


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem_response(request, 404, str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return problem_response(request, 409, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {
        404: f"No route matches {request.method} {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, exc.detail)
    return problem_response(request, exc.status_code, detail, headers=exc.headers)


def create_app(
    settings: Settings | None = None,
    *,
    webhook_sender: WebhookSender | None = None,
    config: ConfigFile | None = None,
) -> Starlette:
    """A Starlette app serving the v1 surface, the control surface and the OpenAPI page.

    ``webhook_sender`` swaps the network under webhook POSTs (see
    ``mock_puresms.webhooks.sender``); ``config`` replaces the settings' config file. Raises
    ``ConfigError`` or ``ScenarioError`` when the settings name bad files.
    """
    runtime = build_runtime(settings or Settings(), webhook_sender=webhook_sender, config=config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.control.closing.reopen()
        await runtime.start()
        try:
            yield
        finally:
            runtime.control.close()
            await runtime.stop()

    app = MockApp(
        routes=[*v1_routes(), *control_routes(), *docs_routes()],
        middleware=[
            Middleware(RequestIdMiddleware),
            # Inside the request id, before routing: faults come before authentication.
            Middleware(
                FaultMiddleware, faults=runtime.control.faults, closing=runtime.control.closing
            ),
        ],
        exception_handlers={
            ProblemError: _problem,
            NotFound: _not_found,
            Conflict: _conflict,
            HTTPException: _http_error,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.runtime = runtime
    return app


class MockApp(Starlette):
    """The app with its runtime as a plain attribute, which every request reads
    (``runtime_of``): through ``app.state`` that costs microseconds a request."""

    runtime: Runtime


def runtime_for(app: Starlette) -> Runtime:
    """The runtime behind an app made by ``create_app`` (for tests and embedding)."""
    if not isinstance(app, MockApp):
        raise TypeError("not an app made by mock_puresms.app.create_app")
    return app.runtime
