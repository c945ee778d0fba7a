"""``/_mock/accounts/{account}/chaos``: the webhook chaos of one account.

``PUT`` takes the body of a scenario's ``webhooks:`` section (``{"seed": 7, "chaos":
[...]}``, JSON or YAML) and overrides the scenario's for that account; ``DELETE`` drops
it, so the scenario's applies again; ``GET`` says what is in force and where it comes
from. A reset forgets accounts' own chaos, as it forgets faults.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_to_configure, scenario_problems
from mock_puresms.core import ChaosSetting, ScenarioError
from mock_puresms.domain.accounts import Account
from mock_puresms.web.body import read_body
from mock_puresms.web.problems import field_error
from mock_puresms.web.responses import json_response


def chaos_json(account: Account, setting: ChaosSetting) -> dict[str, Any]:
    rules = setting.chaos.to_json()["chaos"] if setting.chaos is not None else []
    return {
        "account": account.id,
        "source": setting.source,
        "seed": setting.seed,
        "chaos": rules,
    }


async def get_chaos(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    return json_response(chaos_json(account, mock.webhook_chaos(account)))


async def put_chaos(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise field_error("$", "The body must be UTF-8 JSON.") from exc
    if not text.strip():
        raise field_error("$", 'The body must be a JSON object: {"seed": 7, "chaos": [...]}.')
    try:
        setting = mock.set_webhook_chaos(account, text)
    except ScenarioError as exc:
        raise scenario_problems(exc) from exc
    return json_response(chaos_json(account, setting))


async def delete_chaos(request: Request) -> Response:
    mock, account = await account_to_configure(request)
    return json_response(chaos_json(account, mock.set_webhook_chaos(account, None)))
