"""Who is calling a Connect route: the ``X-Api-Key`` header, nothing else (no Bearer)."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.api_connect.errors import ConnectError
from mock_puresms.domain.accounts import Account
from mock_puresms.domain.rate_limits import refusal, retry_after_seconds
from mock_puresms.web.context import mock_of
from mock_puresms.web.headers import header


async def authenticate(request: Request) -> Account:
    """The caller's account; a ``401`` (with no ``WWW-Authenticate``) otherwise, or a
    ``429`` with ``Retry-After`` when the account's rate limit is used up (the limit is
    the account's, shared with v1; every handler calls this first, so a refused request
    has changed nothing)."""
    key = (header(request, b"x-api-key") or "").strip()
    if not key:
        raise ConnectError(
            401, "Authentication is required: send your API key in the 'X-Api-Key' header."
        )
    mock = mock_of(request)
    account = await mock.account_for_api_key(key)
    if account is None:
        raise ConnectError(401, "The API key is not valid.")
    retry_ms = mock.admit(account.id)
    if retry_ms is not None:
        limit = mock.rate_limit(account.id).limit
        headers = {"Retry-After": str(retry_after_seconds(retry_ms))}
        raise ConnectError(429, refusal(limit, retry_ms), headers=headers)
    return account
