"""Who is calling a v1 route: an ``X-API-Key``, or an OAuth ``Authorization: Bearer`` token."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.rate_limits import refusal, retry_after_seconds
from mock_puresms.web.context import mock_of
from mock_puresms.web.headers import header
from mock_puresms.web.problems import ProblemError

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# RFC 6750 section 3.1, as ASP.NET Core's JwtBearer handler answers a token it refuses.
_TOKEN_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case)."""
    scheme, _, token = (header(request, b"authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


async def authenticate(request: Request) -> Account:
    """The caller's account; a ``401`` with a ``WWW-Authenticate`` challenge otherwise,
    or a ``429`` with ``Retry-After`` when the account's rate limit is used up.

    Every handler calls this first, so a request refused here has changed nothing, and
    every authenticated request counts against the limit, whatever it answers.
    """
    account = await _account(request)
    retry_ms = mock_of(request).admit(account.id)
    if retry_ms is not None:
        raise too_many_requests(request, account, retry_ms)
    return account


def too_many_requests(request: Request, account: Account, retry_ms: int) -> ProblemError:
    limit = mock_of(request).rate_limit(account.id).limit
    headers = {"Retry-After": str(retry_after_seconds(retry_ms))}
    return ProblemError(429, refusal(limit, retry_ms), headers=headers)


async def _account(request: Request) -> Account:
    """The account of the request's credentials; ``401`` otherwise.

    An ``X-API-Key`` wins over a bearer token when a request carries both.
    """
    mock = mock_of(request)
    key = header(request, b"x-api-key")
    if key is not None:
        account = await mock.account_for_api_key(key.strip())
        if account is None:
            raise ProblemError(401, "The API key is not valid.", headers=_CHALLENGE)
        return account
    token = bearer_token(request)
    if token is not None:
        account = await mock.account_for_token(token) if token else None
        if account is None:
            raise ProblemError(
                401,
                "The access token is not valid or has expired: get a new one from "
                "POST /connect/token.",
                headers=_TOKEN_CHALLENGE,
            )
        return account
    raise ProblemError(
        401,
        "Authentication is required: send your API key in the 'X-API-Key' header, "
        "or an access token as 'Authorization: Bearer <token>'.",
        headers=_CHALLENGE,
    )
