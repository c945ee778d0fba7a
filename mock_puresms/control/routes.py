"""``/_mock``: inspect, steer and reset the mock. Not part of PureSMS."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from functools import lru_cache
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mock_puresms import __version__
from mock_puresms.api.body import lowercase_keys, read_body
from mock_puresms.api.paging import Query
from mock_puresms.api.problems import ProblemError, field_error, validation_error
from mock_puresms.api.render import message_json, page_json, reply_json
from mock_puresms.api.responses import json_response
from mock_puresms.api.routing import FlexibleRoute
from mock_puresms.api.sms import message_query
from mock_puresms.control.events import EventStreamResponse
from mock_puresms.control.faults import parse_fault
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.messages import Message
from mock_puresms.domain.phones import normalize_phone
from mock_puresms.domain.queries import paginate
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.runtime import Runtime, runtime_of
from mock_puresms.simulation.scenarios import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from mock_puresms.simulation.scheduler import ClockNotVirtual

_YAML_TYPES = ("application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml")


def _admin(request: Request) -> Runtime:
    """The runtime, once the admin token (when one is set) has been checked."""
    runtime = runtime_of(request)
    token = runtime.settings.admin_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise ProblemError(
                401,
                "The control surface needs 'Authorization: Bearer <admin token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
    return runtime


async def _json_object(request: Request) -> dict[str, Any]:
    """A control body: JSON whatever the content type says (``curl -d`` sends a form type)."""
    raw = await read_body(request)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise field_error("$", f"The JSON value could not be parsed: {exc}.") from exc
    if not isinstance(body, dict):
        raise field_error("$", "The body must be a JSON object.")
    return lowercase_keys(body)


async def _account(runtime: Runtime, ident: str, name: str = "account") -> Account:
    account = await runtime.accounts.by_id_or_name(ident)
    if account is None:
        raise field_error(name, f"No account with id or name '{ident}'.")
    return account


async def health(request: Request) -> Response:
    return json_response({"status": "ok", "version": __version__})


def _clock_json(runtime: Runtime) -> dict[str, Any]:
    return {
        "mode": runtime.clock.mode,
        "now": format_ms(runtime.clock.now()),
        "timeScale": runtime.clock.time_scale,
    }


async def get_clock(request: Request) -> Response:
    return json_response(_clock_json(_admin(request)))


async def advance_clock(request: Request) -> Response:
    runtime = _admin(request)
    body = await _json_object(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise field_error("seconds", "'seconds' must be a number of seconds, 0 or more.")
    if seconds > 10 * 366 * 86400:
        raise field_error("seconds", "'seconds' must be at most ten years.")
    try:
        await runtime.advance(round(seconds * 1000))
    except ClockNotVirtual as exc:
        raise ProblemError(
            409, "The clock is real; start the mock with '--clock virtual' to advance it."
        ) from exc
    return json_response(_clock_json(runtime))


def _scenario_json(runtime: Runtime) -> dict[str, Any]:
    scenario = runtime.engine.scenario
    return {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "source": scenario.source,
    }


async def get_scenario(request: Request) -> Response:
    return json_response(_scenario_json(_admin(request)))


@lru_cache(maxsize=1)
def _shipped_names() -> tuple[str, ...]:
    return tuple(shipped.name for shipped in shipped_scenarios())


@lru_cache(maxsize=16)
def _shipped(name: str) -> Scenario:
    """A shipped scenario, parsed once per process (scenarios are immutable)."""
    return load_scenario(name)


@lru_cache(maxsize=8)
def _parsed(text: str) -> Scenario:
    """A scenario from text; the plugin PUTs the same file before every test."""
    return parse_scenario(text, source_name="<request body>")


def _shipped_scenario(name: str, field: str) -> Scenario:
    if name not in _shipped_names():
        shipped = ", ".join(_shipped_names())
        raise field_error(field, f"'{field}' must name a shipped scenario ({shipped}).")
    return _shipped(name)


def _activate(runtime: Runtime, scenario: Scenario) -> None:
    active = runtime.engine.scenario
    if active is scenario or (active.name, active.source) == (scenario.name, scenario.source):
        return  # a reset has already reseeded it
    runtime.engine.use_scenario(scenario)


async def put_scenario(request: Request) -> Response:
    """A scenario from the body (YAML or JSON), or a shipped one by ``?name=``."""
    runtime = _admin(request)
    name = Query(request).text("name")
    if name is not None:
        runtime.engine.use_scenario(_shipped_scenario(name, "name"))
        return json_response(_scenario_json(runtime))
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (*_YAML_TYPES, "application/json"):
        raise ProblemError(
            415,
            "Send the scenario as application/yaml (or text/yaml) or application/json, "
            "or name a shipped one with '?name='.",
        )
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise field_error("$", "The scenario must be UTF-8 text.") from exc
    try:
        scenario = _parsed(text)
    except ScenarioError as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            where = f"line {problem.line}: " if problem.line is not None else ""
            errors.setdefault(problem.path or "$", []).append(where + problem.reason)
        raise validation_error(errors) from exc
    runtime.engine.use_scenario(scenario)
    return json_response(_scenario_json(runtime))


def _control_message_json(message: Message) -> dict[str, Any]:
    return {**message_json(message), "account": message.account_id}


async def list_messages(request: Request) -> Response:
    runtime = _admin(request)
    query = Query(request)
    ident = query.text("account")
    account_id = (await _account(runtime, ident)).id if ident is not None else None
    page = await runtime.store.query_messages(message_query(query, account_id))
    return json_response(page_json(page, [_control_message_json(m) for m in page.items]))


async def get_message(request: Request) -> Response:
    runtime = _admin(request)
    reference = request.path_params["reference"]
    message = await runtime.store.get_message(reference)
    if message is None:
        raise ProblemError(404, f"No message with reference '{reference}'.")
    return json_response(_control_message_json(message))


async def force_status(request: Request) -> Response:
    runtime = _admin(request)
    body = await _json_object(request)
    try:
        status = DeliveryStatus.parse(body.get("deliverystatus"))
    except ValueError as exc:
        raise field_error("deliveryStatus", f"'deliveryStatus': {exc}.") from exc
    reference = request.path_params["reference"]
    message = await runtime.store.get_message(reference)
    if message is None:
        raise ProblemError(404, f"No message with reference '{reference}'.")
    # A final message is a Conflict (409); the rest of its script is dropped.
    await runtime.messages.change_status(message, status, runtime.clock.now())
    return json_response(message_json(message))


async def inject_reply(request: Request) -> Response:
    runtime = _admin(request)
    body = await _json_object(request)
    errors: dict[str, list[str]] = {}
    phone_raw, sender, content = body.get("from"), body.get("to"), body.get("content")
    phone = normalize_phone(phone_raw) if isinstance(phone_raw, str) else None
    if phone is None:
        errors["from"] = ["'from' must be the phone: 7 to 15 digits, optionally prefixed by '+'."]
    if not isinstance(sender, str) or not sender:
        errors["to"] = ["'to' must be the sender the phone answers (the message's 'from')."]
    if not isinstance(content, str) or not content:
        errors["content"] = ["'content' is required."]
    ident = body.get("account")
    if ident is not None and not isinstance(ident, str):
        errors["account"] = ["'account' must be an account id or name."]
    if errors:
        raise validation_error(errors)
    assert isinstance(sender, str) and isinstance(content, str) and phone is not None
    if isinstance(ident, str):
        account_id = (await _account(runtime, ident)).id
    else:
        found = await runtime.store.latest_sender_account(phone, sender)
        if found is None:
            raise field_error(
                "account",
                f"No account has sent to {phone} from '{sender}'; name the 'account'.",
            )
        account_id = found
    reply = await runtime.replies.receive(account_id, phone, sender, content, runtime.clock.now())
    return json_response({**reply_json(reply), "account": account_id})


def _delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "url": delivery.url,
        "kind": delivery.kind,
        "account": delivery.account_id,
        "body": orjson.loads(delivery.body),
        "state": delivery.state,
        "createdAt": format_ms(delivery.created_at),
        "nextAttemptAt": (
            format_ms(delivery.next_attempt_at) if delivery.next_attempt_at is not None else None
        ),
        "attempts": [
            {
                "at": format_ms(attempt.at),
                "status": attempt.status,
                "error": attempt.error,
                "durationMs": attempt.duration_ms,
            }
            for attempt in delivery.attempts
        ],
    }


async def list_webhooks(request: Request) -> Response:
    runtime = _admin(request)
    query = Query(request)
    state = query.text("state")
    if state is not None and state not in ("pending", "delivered", "failed"):
        raise field_error("state", "'state' must be pending, delivered or failed.")
    ident = query.text("account")
    account_id = (await _account(runtime, ident)).id if ident is not None else None
    page, page_size = query.paging()
    result = paginate(
        runtime.webhooks.deliveries(query.text("url"), state, account_id), page, page_size
    )
    return json_response(page_json(result, [_delivery_json(d) for d in result.items]))


async def reset(request: Request) -> Response:
    """Forget state; ``?scenario=NAME`` also makes a shipped scenario active (the plugin's
    per-test reset, in one request)."""
    runtime = _admin(request)
    query = Query(request)
    ident = query.text("account")
    name = query.text("scenario")
    scenario = _shipped_scenario(name, "scenario") if name is not None else None
    account_id = (await _account(runtime, ident)).id if ident is not None else None
    await runtime.reset(account_id)
    if scenario is not None:
        _activate(runtime, scenario)
    return json_response(
        {"reset": True, "account": account_id, "scenario": runtime.engine.scenario.name}
    )


# -- faults -----------------------------------------------------------------------------


async def add_fault(request: Request) -> Response:
    runtime = _admin(request)
    fault = parse_fault(await _json_object(request))
    runtime.control.faults.add(fault)
    return json_response(fault.to_json())


async def list_faults(request: Request) -> Response:
    runtime = _admin(request)
    page, page_size = Query(request).paging()
    result = paginate(runtime.control.faults.all(), page, page_size)
    return json_response(page_json(result, [f.to_json() for f in result.items]))


async def clear_faults(request: Request) -> Response:
    runtime = _admin(request)
    return json_response({"deleted": runtime.control.faults.clear()})


async def delete_fault(request: Request) -> Response:
    runtime = _admin(request)
    fault_id = request.path_params["id"]
    if not runtime.control.faults.remove(fault_id):
        raise ProblemError(404, f"No fault with id '{fault_id}'.")
    return json_response({"deleted": 1})


# -- long poll and event stream -----------------------------------------------------------

MAX_WAIT_SECONDS = 300.0


def _wait_timeout(query: Query) -> float:
    raw = query.text("timeout")
    if raw is None:
        return 10.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:  # also refuses nan
        raise field_error(
            "timeout", f"'timeout' must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}."
        )
    return value


def _has_reached(message: Message, status: DeliveryStatus) -> bool:
    return message.status is status or any(entry.status is status for entry in message.history)


async def wait_for_status(request: Request) -> Response:
    """Long-poll until a message has reached a status; woken by the event bus."""
    runtime = _admin(request)
    query = Query(request)
    errors: dict[str, list[str]] = {}
    reference = query.text("reference")
    if reference is None:
        errors["reference"] = ["'reference' is required: the message to wait for."]
    wanted: DeliveryStatus | None = None
    try:
        wanted = query.status("deliveryStatus")
        if wanted is None:
            errors["deliveryStatus"] = ["'deliveryStatus' is required: a code or a name."]
    except ProblemError as exc:
        errors.update(exc.errors or {})
    try:
        timeout = _wait_timeout(query)
    except ProblemError as exc:
        errors.update(exc.errors or {})
    if errors:
        raise validation_error(errors)
    assert reference is not None and wanted is not None
    control = runtime.control
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    disconnected = asyncio.ensure_future(_disconnect(request))
    closing = control.closing.future()
    try:
        while True:
            changed = control.waiters.watch(reference)
            try:
                message = await runtime.store.get_message(reference)
                if message is None:
                    raise ProblemError(404, f"No message with reference '{reference}'.")
                if _has_reached(message, wanted):
                    return json_response(_control_message_json(message))
                if message.is_final:
                    raise ProblemError(
                        409,
                        f"Message {reference} is {message.status.label}, a final status: "
                        f"it will never be {wanted.label}.",
                    )
                remaining = deadline - loop.time()
                if closing.done():
                    raise ProblemError(503, "The mock is shutting down.")
                if remaining <= 0 or disconnected.done():
                    raise ProblemError(
                        408,
                        f"Message {reference} did not reach {wanted.label} within "
                        f"{timeout:g} s; it is {message.status.label}.",
                    )
                await asyncio.wait(
                    {changed, closing, disconnected},
                    timeout=remaining,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                control.waiters.forget(reference, changed)
    finally:
        control.closing.discard(closing)
        disconnected.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await disconnected


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def events(request: Request) -> Response:
    runtime = _admin(request)
    return EventStreamResponse(runtime.control.streams)


def control_routes() -> list[BaseRoute]:
    return [
        FlexibleRoute("/_mock/health", {"GET": health}),
        FlexibleRoute("/_mock/clock", {"GET": get_clock}),
        FlexibleRoute("/_mock/clock/advance", {"POST": advance_clock}),
        FlexibleRoute("/_mock/scenario", {"GET": get_scenario, "PUT": put_scenario}),
        FlexibleRoute("/_mock/messages", {"GET": list_messages}),
        FlexibleRoute("/_mock/messages/{reference}", {"GET": get_message}),
        FlexibleRoute("/_mock/messages/{reference}/status", {"POST": force_status}),
        FlexibleRoute("/_mock/replies", {"POST": inject_reply}),
        FlexibleRoute("/_mock/webhooks", {"GET": list_webhooks}),
        FlexibleRoute("/_mock/reset", {"POST": reset}),
        FlexibleRoute(
            "/_mock/faults", {"GET": list_faults, "POST": add_fault, "DELETE": clear_faults}
        ),
        FlexibleRoute("/_mock/faults/{id}", {"DELETE": delete_fault}),
        FlexibleRoute("/_mock/wait", {"GET": wait_for_status}),
        FlexibleRoute("/_mock/events", {"GET": events}),
    ]
