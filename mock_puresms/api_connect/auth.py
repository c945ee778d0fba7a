"""Who is calling a Connect route: the ``X-Api-Key`` header, nothing else (no Bearer)."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.api_connect.errors import ConnectError
from mock_puresms.domain.accounts import Account
from mock_puresms.web.context import mock_of


async def authenticate(request: Request) -> Account:
    """The caller's account; a ``401`` (with no ``WWW-Authenticate``) otherwise."""
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        raise ConnectError(
            401, "Authentication is required: send your API key in the 'X-Api-Key' header."
        )
    account = await mock_of(request).account_for_api_key(key)
    if account is None:
        raise ConnectError(401, "The API key is not valid.")
    return account
