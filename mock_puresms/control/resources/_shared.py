"""What several control resources share: JSON bodies, accounts by id or name, shapes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from mock_puresms.core import Mock
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.messages import Message
from mock_puresms.web.body import lowercase_keys, read_body
from mock_puresms.web.problems import field_error
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


async def account_filter(mock: Mock, ident: str | None) -> str | None:
    """The id of the account a ``?account=`` filter names, or ``None`` for every account."""
    return (await account_named(mock, ident)).id if ident is not None else None


def control_message_json(message: Message) -> dict[str, Any]:
    """A message as the v1 API shows it, with the account it belongs to and the API
    (``v1`` or ``connect``) it was sent through."""
    return {**message_json(message), "account": message.account_id, "api": message.api}
