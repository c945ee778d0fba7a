"""``/_mock``: inspect, steer and reset the mock. Not part of PureSMS.

The route table of the control surface, one module per resource in ``resources/``. The
admin token is enforced here, once for every route but health, so no handler has to
remember it; so is the refusal of the mock's own webhook POSTs, on every route.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.routing import BaseRoute

from mock_puresms.control.admin import refuse_webhooks, require_admin
from mock_puresms.control.resources import (
    chaos,
    clock,
    endpoints,
    events,
    faults,
    health,
    messages,
    rate_limits,
    replies,
    reset,
    scenario,
    wait,
    webhooks,
)
from mock_puresms.web.routing import Endpoint, FlexibleRoute

# Open without the admin token: container health checks know no token.
OPEN_PATHS = frozenset({"/_mock/health"})


def _table() -> dict[str, Mapping[str, Endpoint]]:
    return {
        "/_mock/health": {"GET": health.health},
        "/_mock/clock": {"GET": clock.get_clock},
        "/_mock/clock/advance": {"POST": clock.advance_clock},
        "/_mock/scenario": {"GET": scenario.get_scenario, "PUT": scenario.put_scenario},
        "/_mock/messages": {"GET": messages.list_messages},
        "/_mock/messages/{reference}": {"GET": messages.get_message},
        "/_mock/messages/{reference}/status": {"POST": messages.force_status},
        "/_mock/messages/{reference}/cancel": {"POST": messages.cancel_message},
        "/_mock/replies": {"GET": replies.list_replies, "POST": replies.inject_reply},
        "/_mock/webhooks": {"GET": webhooks.list_webhooks},
        "/_mock/webhooks/{id}/replay": {"POST": webhooks.replay_webhook},
        "/_mock/accounts/{account}/endpoints": {
            "GET": endpoints.list_endpoints,
            "PUT": endpoints.put_endpoints,
        },
        "/_mock/accounts/{account}/endpoints/{index}/enable": {"POST": endpoints.enable_endpoint},
        "/_mock/accounts/{account}/rate-limit": {
            "GET": rate_limits.get_rate_limit,
            "PUT": rate_limits.put_rate_limit,
            "DELETE": rate_limits.delete_rate_limit,
        },
        "/_mock/accounts/{account}/chaos": {
            "GET": chaos.get_chaos,
            "PUT": chaos.put_chaos,
            "DELETE": chaos.delete_chaos,
        },
        "/_mock/reset": {"POST": reset.reset},
        "/_mock/faults": {
            "GET": faults.list_faults,
            "POST": faults.add_fault,
            "DELETE": faults.clear_faults,
        },
        "/_mock/faults/{id}": {"DELETE": faults.delete_fault},
        "/_mock/wait": {"GET": wait.wait_for_status},
        "/_mock/events": {"GET": events.events},
    }


def control_routes(admin_token: str | None = None) -> list[BaseRoute]:
    """The control surface's routes; with ``admin_token``, all but health need it."""
    routes: list[BaseRoute] = []
    for path, handlers in _table().items():
        if admin_token and path not in OPEN_PATHS:
            handlers = {m: require_admin(admin_token, h) for m, h in handlers.items()}
        handlers = {m: refuse_webhooks(h) for m, h in handlers.items()}
        routes.append(FlexibleRoute(path, handlers))
    return routes
