"""``/_mock/accounts/{account}/rate-limit``: read, set and remove an account's rate limit
(at most ``requests`` API requests in any ``window`` of mock time, on both APIs).

A limit set here lasts until the next ``POST /_mock/reset`` of the account, which brings
back the config file's (or none); ``DELETE`` leaves the account with no limit until then.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_to_configure, json_object
from mock_puresms.core import parse_duration
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.rate_limits import (
    MAX_REQUESTS,
    MAX_WINDOW_MS,
    RateLimit,
    RateLimitState,
    retry_after_seconds,
)
from mock_puresms.web.problems import validation_error
from mock_puresms.web.responses import json_response

_REQUESTS = f"'requests' must be a whole number from 1 to {MAX_REQUESTS}."
_WINDOW = (
    '\'window\' must be a duration from 1ms to 24h, such as "1s", "500ms" or "1m" '
    "(a bare number is seconds)."
)


def rate_limit_json(account: Account, state: RateLimitState) -> dict[str, Any]:
    limit = state.limit
    return {
        "account": account.id,
        "requests": limit.requests if limit is not None else None,
        "window": limit.window if limit is not None else None,
        "windowMs": limit.window_ms if limit is not None else None,
        "source": state.source,
        "used": state.used,
        "remaining": max(0, limit.requests - state.used) if limit is not None else None,
        "retryAfter": retry_after_seconds(state.retry_after_ms) if state.retry_after_ms else 0,
        "retryAfterMs": state.retry_after_ms,
    }


async def get_rate_limit(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    return json_response(rate_limit_json(account, mock.rate_limit(account.id)))


async def put_rate_limit(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    limit = parse_rate_limit(await json_object(request))
    return json_response(rate_limit_json(account, mock.set_rate_limit(account.id, limit)))


async def delete_rate_limit(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    return json_response(rate_limit_json(account, mock.set_rate_limit(account.id, None)))


def parse_rate_limit(fields: dict[str, Any]) -> RateLimit:
    """``{"requests": 10, "window": "1s"}`` (keys in any case); a ``400`` naming each
    wrong field otherwise."""
    errors: dict[str, list[str]] = {}
    requests = fields.get("requests")
    if type(requests) is not int or not 1 <= requests <= MAX_REQUESTS:
        errors["requests"] = [_REQUESTS]
    window = fields.get("window")
    window_ms = 0
    try:
        if isinstance(window, str | int | float):
            window_ms = parse_duration(window)
    except ValueError:
        pass
    if not 1 <= window_ms <= MAX_WINDOW_MS:
        errors["window"] = [_WINDOW]
    if errors:
        raise validation_error(errors)
    assert isinstance(requests, int)
    return RateLimit(requests, window_ms)
