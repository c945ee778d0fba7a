"""``/_mock``: inspect, steer and reset the mock. Not part of PureSMS."""

from __future__ import annotations

import hmac
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
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.errors import Conflict
from mock_puresms.domain.phones import normalize_phone
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.runtime import Runtime, runtime_of
from mock_puresms.simulation.scenarios import ScenarioError, parse_scenario
from mock_puresms.simulation.scheduler import ClockNotVirtual
from mock_puresms.storage.base import paginate
from mock_puresms.webhooks.deliveries import Delivery

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
        await runtime.scheduler.advance(round(seconds * 1000))
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


async def put_scenario(request: Request) -> Response:
    runtime = _admin(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (*_YAML_TYPES, "application/json"):
        raise ProblemError(
            415, "Send the scenario as application/yaml (or text/yaml) or application/json."
        )
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise field_error("$", "The scenario must be UTF-8 text.") from exc
    try:
        scenario = parse_scenario(text, source_name="<request body>")
    except ScenarioError as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            where = f"line {problem.line}: " if problem.line is not None else ""
            errors.setdefault(problem.path or "$", []).append(where + problem.reason)
        raise validation_error(errors) from exc
    runtime.engine.use_scenario(scenario)
    return json_response(_scenario_json(runtime))


async def list_messages(request: Request) -> Response:
    runtime = _admin(request)
    query = Query(request)
    ident = query.text("account")
    account_id = (await _account(runtime, ident)).id if ident is not None else None
    page = await runtime.store.query_messages(message_query(query, account_id))
    return json_response(
        page_json(page, [{**message_json(m), "account": m.account_id} for m in page.items])
    )


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
    try:
        await runtime.messages.change_status(message, status, runtime.clock.now())
    except Conflict as exc:
        raise ProblemError(409, str(exc)) from exc
    runtime.engine.detach(message)
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
    runtime = _admin(request)
    ident = Query(request).text("account")
    account_id = (await _account(runtime, ident)).id if ident is not None else None
    await runtime.reset(account_id)
    return json_response({"reset": True, "account": account_id})


def control_routes() -> list[BaseRoute]:
    return [
        FlexibleRoute("/_mock/health", {"GET": health}),
        FlexibleRoute("/_mock/clock", {"GET": get_clock}),
        FlexibleRoute("/_mock/clock/advance", {"POST": advance_clock}),
        FlexibleRoute("/_mock/scenario", {"GET": get_scenario, "PUT": put_scenario}),
        FlexibleRoute("/_mock/messages", {"GET": list_messages}),
        FlexibleRoute("/_mock/messages/{reference}/status", {"POST": force_status}),
        FlexibleRoute("/_mock/replies", {"POST": inject_reply}),
        FlexibleRoute("/_mock/webhooks", {"GET": list_webhooks}),
        FlexibleRoute("/_mock/reset", {"POST": reset}),
    ]
