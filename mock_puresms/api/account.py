"""``/v1/Account``: credits and webhook settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.domain.accounts import WebhookSettings
from mock_puresms.domain.urls import webhook_url_problem
from mock_puresms.web.body import lowercase_keys, read_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.problems import field_error, validation_error
from mock_puresms.web.render import account_json, webhooks_json
from mock_puresms.web.responses import json_response


async def get_account(request: Request) -> Response:
    """``GET /v1/Account``."""
    return json_response(account_json(await authenticate(request)))


async def get_webhooks(request: Request) -> Response:
    """``GET /v1/Account/Webhooks``."""
    return json_response(webhooks_json((await authenticate(request)).webhooks))


async def put_webhooks(request: Request) -> Response:
    """``PUT /v1/Account/Webhooks``: replaces all three settings (absent means null)."""
    account = await authenticate(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise field_error("$", "The body must be a JSON object.")
    fields = lowercase_keys(body)
    errors: dict[str, list[str]] = {}
    values: dict[str, str | None] = {}
    for name in ("deliveryReceiptUrl", "replyUrl", "secret"):
        value = fields.get(name.lower())
        if value is not None and not isinstance(value, str):
            errors[name] = [f"'{name}' must be a string or null."]
        elif name != "secret" and value is not None and (problem := webhook_url_problem(value)):
            errors[name] = [f"'{name}' {problem} (or be null)."]
        elif name == "secret" and value == "":
            errors[name] = ["'secret' must not be empty; use null for no signing."]
        else:
            values[name] = value
    if errors:
        raise validation_error(errors)
    await mock_of(request).set_webhooks(
        account,
        WebhookSettings(values["deliveryReceiptUrl"], values["replyUrl"], values["secret"]),
    )
    return json_response(webhooks_json(account.webhooks))
