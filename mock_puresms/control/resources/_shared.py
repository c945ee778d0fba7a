"""What several control resources share: JSON bodies, accounts by id or name, shapes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from mock_puresms.core import Mock, ScenarioError
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.connect_status import connect_status, error_code
from mock_puresms.domain.messages import Message
from mock_puresms.web.body import lowercase_keys, read_body
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import ProblemError, field_error, validation_error
from mock_puresms.web.render import message_json


async def json_object(request: Request) -> dict[str, Any]:
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


async def account_named(mock: Mock, ident: str, name: str = "account") -> Account:
    """The account with id or name ``ident``; a ``400`` naming field ``name`` otherwise."""
    account = await mock.find_account(ident)
    if account is None:
        raise field_error(name, f"No account with id or name '{ident}'.")
    return account


async def account_filter(mock: Mock, query: Query) -> str | None:
    """The id of the account ``?account=`` (an id or name) or ``?apiKey=`` (a key it
    authenticates with) names, or ``None`` for every account.

    A key of open mode names its account even before the account exists (it then has
    nothing to list or reset), as a fresh key a test has not used yet does.
    """
    ident, key = query.text("account"), query.text("apiKey")
    if key is None:
        return (await account_named(mock, ident)).id if ident is not None else None
    if ident is not None:
        raise field_error("apiKey", "Give 'account' or 'apiKey', not both.")
    return key_account_id(mock, key)


async def account_to_configure(request: Request) -> tuple[Mock, Account]:
    """The mock and the account the path's ``{account}`` names (id or name); a ``404``
    otherwise. In open mode also an account not used yet: a test configures it (limits,
    chaos, endpoints) before it sends."""
    mock = mock_of(request)
    ident = request.path_params["account"]
    account = await mock.find_account_to_configure(ident)
    if account is None:
        raise ProblemError(404, f"No account with id or name '{ident}'.")
    return mock, account


def scenario_problems(exc: ScenarioError) -> ProblemError:
    """A scenario text's mistakes as one ``400``: each under its path, with its line."""
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        where = f"line {problem.line}: " if problem.line is not None else ""
        errors.setdefault(problem.path or "$", []).append(where + problem.reason)
    return validation_error(errors)


def key_account_id(mock: Mock, key: str, name: str = "apiKey") -> str:
    """The id of the account of API key ``key``; a ``400`` naming ``name`` when refused."""
    account_id = mock.account_id_for_api_key(key)
    if account_id is None:
        raise field_error(name, f"No account has the API key given as '{name}'.")
    return account_id


def control_message_json(message: Message) -> dict[str, Any]:
    """A message as the v1 API shows it, with the account it belongs to, the API it was
    sent through, its tag, and its status as the current API shows it (API.md 9.4)."""
    status = connect_status(message.status, message.cancelled)
    return {
        **message_json(message),
        "account": message.account_id,
        "api": message.api,
        "clientTag": message.client_tag,
        "connectStatus": int(status),
        "connectStatusName": status.label,
        "errorCode": error_code(message.status),
    }
