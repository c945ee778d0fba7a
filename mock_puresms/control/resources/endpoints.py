"""``/_mock/accounts/{account}/endpoints``: an account's webhook endpoints of the current
API (API.md 9.5-9.6), replaced whole by ``PUT``, and re-enabled one by one."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_to_configure
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.endpoints import EVENT_TYPES, FORMATS, Endpoint
from mock_puresms.domain.queries import paginate
from mock_puresms.domain.urls import webhook_url_problem
from mock_puresms.web.body import lowercase_keys, read_body
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import ProblemError, field_error, validation_error
from mock_puresms.web.render import page_json
from mock_puresms.web.responses import json_response


def endpoint_json(index: int, endpoint: Endpoint) -> dict[str, Any]:
    return {
        "index": index,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "secret": endpoint.secret,
        "format": endpoint.format,
        "enabled": endpoint.enabled,
        "consecutiveFailures": endpoint.failures,
    }


def _listing(request: Request, account: Account) -> Response:
    page, page_size = Query(request).paging()
    # In index order, not newest first: the index is how an endpoint is named.
    result = paginate(list(enumerate(account.endpoints)), page, page_size)
    return json_response(page_json(result, [endpoint_json(i, e) for i, e in result.items]))


async def list_endpoints(request: Request) -> Response:
    _, account = await account_to_configure(request)
    return _listing(request, account)


async def put_endpoints(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    raw = await read_body(request)
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise field_error("$", f"The JSON value could not be parsed: {exc}.") from exc
    if not isinstance(body, list):
        raise field_error("$", "The body must be a JSON array of endpoints (may be empty).")
    errors: dict[str, list[str]] = {}
    endpoints = [_endpoint(index, item, errors) for index, item in enumerate(body)]
    if errors:
        raise validation_error(errors)
    await mock.set_endpoints(account, [e for e in endpoints if e is not None])
    return _listing(request, account)


def _endpoint(index: int, item: object, errors: dict[str, list[str]]) -> Endpoint | None:
    """One endpoint with the config file's keys (any case), its mistakes in ``errors``."""
    where = f"[{index}]"
    if not isinstance(item, dict):
        errors[where] = ["An endpoint must be an object with 'url' and optionally 'events', "
                         "'secret' and 'format'."]  # fmt: skip
        return None
    fields = lowercase_keys(item)
    found = len(errors)
    url = fields.get("url")
    if not isinstance(url, str):
        errors[f"{where}.url"] = ["'url' must be an absolute http or https URL."]
    elif problem := webhook_url_problem(url):
        errors[f"{where}.url"] = [f"'url' {problem}."]
    events = fields.get("events", list(EVENT_TYPES))
    if (
        not isinstance(events, list)
        or not events
        or not all(type(e) is int and e in EVENT_TYPES for e in events)
    ):
        errors[f"{where}.events"] = [
            "'events' must be a non-empty list of event types: 1 (receipts), 2 (inbound)."
        ]
    secret = fields.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        errors[f"{where}.secret"] = ["'secret' must be non-empty text, or null for unsigned."]
    fmt = fields.get("format", "observed")
    if fmt not in FORMATS:
        errors[f"{where}.format"] = ["'format' must be 'observed' or 'documented'."]
    if len(errors) != found:
        return None
    assert isinstance(url, str) and isinstance(events, list)
    return Endpoint(url, tuple(sorted(set(events))), secret, fmt)


async def enable_endpoint(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    raw = request.path_params["index"]
    if not raw.isdigit():
        raise ProblemError(404, f"The account has no endpoint {raw!r}.")
    index = int(raw)
    endpoint = await mock.enable_endpoint(account, index)
    return json_response(endpoint_json(index, endpoint))
