"""The composition root: ``create_app(settings)`` builds one independent mock server.

This is the one module that knows every part: it builds the core (store, clock,
simulation, webhooks, domain services) behind the ``Mock`` façade, mounts the surfaces
on top (v1 API, control surface, docs) and starts and stops the core in the lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from mock_puresms import message_log
from mock_puresms.api.docs import routes as docs_routes
from mock_puresms.api.routes import v1_routes
from mock_puresms.api_connect.errors import error_response as connect_error_response
from mock_puresms.api_connect.routes import connect_routes, is_connect_path
from mock_puresms.control.faults import FaultMiddleware
from mock_puresms.control.routes import control_routes
from mock_puresms.control.state import ControlState
from mock_puresms.core import CoreParts, Mock, Retention
from mock_puresms.domain.accounts import (
    AccountDirectory,
    AccountSpec,
    WebhookSettings,
    configured_account_id,
)
from mock_puresms.domain.contacts import ContactService
from mock_puresms.domain.endpoints import Endpoint
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.events import EventBus
from mock_puresms.domain.groups import GroupService
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.ports import Store
from mock_puresms.domain.rate_limits import RateLimiter
from mock_puresms.domain.reports import Pricing
from mock_puresms.domain.sending import MessageService
from mock_puresms.domain.tokens import TokenService
from mock_puresms.inbox.routes import inbox_routes
from mock_puresms.settings import ConfigFile, EndpointConfig, Settings
from mock_puresms.simulation.clock import Clock, RealClock, VirtualClock
from mock_puresms.simulation.engine import SimulationEngine
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import load_scenario
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.sqlite import SqliteStore
from mock_puresms.web import pacing
from mock_puresms.web.middleware import ExceptionHandler, RequestIdMiddleware
from mock_puresms.web.problems import ProblemError, problem_response
from mock_puresms.web.render import reply_json
from mock_puresms.web.routing import FrontRoutes
from mock_puresms.webhooks.dispatcher import WebhookDispatcher
from mock_puresms.webhooks.sender import WebhookSender

REAL_CLOCK_DUE_TICK_MS = 10
"""On the real clock, sends whose lifecycles fall due within this many mock milliseconds
of the first of them step together: under load a script step per send would cost more
than the sends (issue 17); a send alone in its window keeps its exact times."""


SEND_PATHS = frozenset(("/v1/Sms/Send", "/v1/Sms/SendBulk", "/sms/send", "/sms/send/bulk"))


def sends_first(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes in order, the send routes moved to the front.

    Starlette tries routes one by one, and sends are most of what a mock serves: the
    current API's came after some thirty patterns. Their paths match no other route's
    pattern (no other route takes the method of one on the same path), so the order
    changes no answer.
    """
    return sorted(routes, key=lambda route: getattr(route, "path", None) not in SEND_PATHS)


def all_routes(admin_token: str | None) -> list[BaseRoute]:
    """Every surface's routes, in the order written (``sends_first`` reorders them)."""
    return [
        *v1_routes(),
        *connect_routes(),
        *control_routes(admin_token),
        *docs_routes(),
        *inbox_routes(admin_token),
    ]


def endpoints_of(configs: Sequence[EndpointConfig]) -> list[Endpoint]:
    """Webhook endpoints of the current API as configured (or PUT on the control surface)."""
    return [Endpoint(c.url, c.events, c.secret, c.format) for c in configs]


def account_specs(config: ConfigFile) -> list[AccountSpec]:
    return [
        AccountSpec(
            name=account.name,
            api_keys=account.api_keys,
            oauth_clients=tuple((c.client_id, c.client_secret) for c in account.oauth_clients),
            credits=account.credits,
            webhooks=WebhookSettings(
                account.webhooks.delivery_receipt_url,
                account.webhooks.reply_url,
                account.webhooks.secret,
            ),
            endpoints=tuple(endpoints_of(account.webhook_endpoints)),
        )
        for account in config.accounts
    ]


def build_mock(
    settings: Settings,
    *,
    webhook_sender: WebhookSender | None = None,
    config: ConfigFile | None = None,
) -> Mock:
    """Wire the core; raises ``ConfigError`` or ``ScenarioError`` for bad files.

    ``webhook_sender`` replaces the network under the webhook dispatcher; ``config``
    replaces the config file (the pytest plugin passes its fast webhook tuning).
    """
    config = config if config is not None else settings.load_config()
    scenario = load_scenario(settings.scenario)
    clock: Clock = VirtualClock() if settings.clock == "virtual" else RealClock(settings.time_scale)
    store: Store = SqliteStore(settings.db) if settings.db is not None else MemoryStore()
    events = EventBus()
    # First, so a message's lines come before whatever the other subscribers cause.
    events.subscribe(message_log.on_event)
    scheduler = Scheduler(clock)
    planner = ScenarioPlanner(scenario)
    # Large sends let other requests in between building and storing their messages.
    messages = MessageService(
        store, events, clock.now, planner.plan, pause=pacing.pause, pause_from=pacing.PAUSE_FROM
    )
    contacts = ContactService(store, clock.now)
    replies = ReplyService(store, events, contacts)
    # On the real clock, sends due within a few milliseconds share a script (see the
    # engine); the virtual clock keeps every send's exact times.
    merge_window = REAL_CLOCK_DUE_TICK_MS if clock.mode == "real" else 0
    engine = SimulationEngine(scheduler, messages, replies, planner, merge_window_ms=merge_window)
    events.subscribe(engine)
    # What a segment costs: in the current API's receipts and its client-tag reports.
    pricing = Pricing(config.pricing.gbp_per_segment, config.pricing.eur_per_segment)
    webhooks = WebhookDispatcher(
        scheduler,
        store.get_account,
        config.webhooks,
        # Reply webhooks carry the reply as the v1 API shows it.
        reply_json,
        store.save_deliveries,
        sender=webhook_sender,
        durable=settings.db is not None,
        publish=events.publish,
        save_account=store.save_account,
        prices=pricing,
        # Chaos on webhook POSTs: the active scenario's ``webhooks:`` section.
        scenario_chaos=lambda: (engine.scenario.webhooks, engine.scenario.seed),
    )
    events.subscribe(webhooks)
    parts = CoreParts(
        store=store,
        events=events,
        clock=clock,
        scheduler=scheduler,
        accounts=AccountDirectory(
            store, account_specs(config), endpoints_of(config.open_mode.webhook_endpoints)
        ),
        messages=messages,
        replies=replies,
        engine=engine,
        webhooks=webhooks,
        contacts=contacts,
        groups=GroupService(store, clock.now),
        tokens=TokenService(store, clock.now),
        rate_limits=rate_limiter(config, clock),
    )
    return Mock(parts, Retention(settings.retention_ms, settings.max_messages), pricing)


def rate_limiter(config: ConfigFile, clock: Clock) -> RateLimiter:
    """The config file's ``rateLimit``s: per account, and ``openMode``'s for accounts
    created in open mode (it does not apply once accounts are configured)."""
    configured = {
        configured_account_id(account.name): account.rate_limit.limit()
        for account in config.accounts
        if account.rate_limit is not None
    }
    opening = config.open_mode.rate_limit
    default = opening.limit() if opening is not None and not config.accounts else None
    return RateLimiter(clock.now, configured, default)


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
    if is_connect_path(request.url.path):
        # The current API answers in its own error body (API.md 9.1).
        response = connect_error_response(exc.status_code, detail, None)
        response.headers.update(exc.headers or {})
        return response
    return problem_response(request, exc.status_code, detail, headers=exc.headers)


EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {
    ProblemError: _problem,
    NotFound: _not_found,
    Conflict: _conflict,
    HTTPException: _http_error,
}


def create_app(
    settings: Settings | None = None,
    *,
    webhook_sender: WebhookSender | None = None,
    config: ConfigFile | None = None,
) -> Starlette:
    """A Starlette app serving the v1 surface, the control surface, the OpenAPI page and
    the web inbox (``/``).

    ``webhook_sender`` swaps the network under webhook POSTs (see
    ``mock_puresms.webhooks.sender``); ``config`` replaces the settings' config file. Raises
    ``ConfigError`` or ``ScenarioError`` when the settings name bad files.
    """
    settings = settings or Settings()
    mock = build_mock(settings, webhook_sender=webhook_sender, config=config)
    control = ControlState(mock.subscribe)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        control.closing.reopen()
        await mock.start()
        try:
            yield
        finally:
            control.close()
            await mock.stop()

    app = MockApp(
        routes=sends_first(all_routes(settings.admin_token)),
        middleware=[
            # The outermost layer: the request id, and the handlers of the exceptions.
            Middleware(RequestIdMiddleware, handlers=EXCEPTION_HANDLERS),
            # Inside the request id, before routing: faults come before authentication.
            Middleware(FaultMiddleware, faults=control.faults, closing=control.closing),
        ],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.mock = mock
    app.control = control
    return app


class MockApp(Starlette):
    """The app with its façade and control state as plain attributes, which requests
    read (``mock_of``): through ``app.state`` that costs microseconds a request."""

    mock: Mock
    control: ControlState

    def build_middleware_stack(self) -> ASGIApp:
        """The middleware around the router, without Starlette's two layers of its own:
        ``RequestIdMiddleware`` answers exceptions by their handlers, as
        ``ExceptionMiddleware`` did, and an unhandled error with a 500 carrying the
        request id (``ServerErrorMiddleware`` never acted behind it). Each layer costs
        every request its call and closures."""
        app: ASGIApp = FrontRoutes(self.router, SEND_PATHS)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app

    def close_long_lived(self) -> None:
        """End event streams, long polls and injected delays (server shutdown)."""
        self.control.close()


def mock_for(app: Starlette) -> Mock:
    """The façade behind an app made by ``create_app`` (for tests and embedding)."""
    if not isinstance(app, MockApp):
        raise TypeError("not an app made by mock_puresms.app.create_app")
    return app.mock


def control_for(app: Starlette) -> ControlState:
    """The control surface's state behind an app made by ``create_app`` (for tests)."""
    if not isinstance(app, MockApp):
        raise TypeError("not an app made by mock_puresms.app.create_app")
    return app.control
