"""``POST /connect/token``: the OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

The one v1 route whose errors are not problem+json: RFC 6749 section 5.2 fixes their
shape, ``{"error": "...", "error_description": "..."}``, and OAuth libraries parse it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.domain.tokens import TOKEN_SCOPE
from mock_puresms.web.body import read_body
from mock_puresms.web.context import mock_of
from mock_puresms.web.problems import ProblemError
from mock_puresms.web.responses import json_response

FORM_TYPE = "application/x-www-form-urlencoded"
# A token request is a few hundred bytes; anything near this is not one.
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50
# RFC 6749 section 5.1: token responses, and errors, must never be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = 'Basic realm="PureSMS"'


class TokenError(Exception):
    """An RFC 6749 error response: ``400`` unless the client failed to authenticate."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _invalid_request(description: str) -> TokenError:
    return TokenError("invalid_request", description)


def _invalid_client(description: str) -> TokenError:
    return TokenError("invalid_client", description, 401)


def _error_response(exc: TokenError) -> Response:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        # RFC 9110 wants a challenge on every 401; RFC 6749 names Basic for this one.
        headers["WWW-Authenticate"] = _BASIC_CHALLENGE
    return json_response(
        {"error": exc.error, "error_description": exc.description}, exc.status, headers
    )


async def _read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise _invalid_request(f"The request body must be form-encoded ('{FORM_TYPE}').")
    try:
        raw = await read_body(request, MAX_FORM_BYTES)
    except ProblemError as exc:
        raise _invalid_request("The request body is too large for a token request.") from exc
    try:
        pairs = parse_qsl(
            raw.decode(),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError included
        raise _invalid_request(f"The form body could not be parsed: {exc}.") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 section 3.2: parameters must not be included more than once.
            raise _invalid_request(f"The parameter '{name}' is given more than once.")
        form[name] = value
    return form


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """``client_id`` and ``client_secret`` from an ``Authorization: Basic`` header, if any.

    RFC 6749 section 2.3.1: each is form-urlencoded before the pair is base64-encoded.
    """
    scheme, _, encoded = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, or non-ASCII text
        raise _invalid_client("The Basic credentials are not valid base64 of UTF-8.") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("The Basic credentials must be 'client_id:client_secret'.")
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str]:
    basic = _basic_credentials(request)
    if basic is None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise _invalid_client(
                "Client authentication is required: send 'client_id' and 'client_secret' "
                "in the form or as HTTP Basic."
            )
        return client_id, secret
    # RFC 6749 section 2.3: one authentication method per request. A client_id repeated
    # in the form is tolerated (many libraries send it), a second secret is not.
    if "client_secret" in form:
        raise _invalid_request("Send the client secret either as HTTP Basic or in the form.")
    if form.get("client_id", basic[0]) != basic[0]:
        raise _invalid_request("The form's 'client_id' differs from the Basic credentials.")
    return basic


def _check_scope(form: Mapping[str, str]) -> None:
    requested = form.get("scope", "").split()
    unknown = [scope for scope in requested if scope != TOKEN_SCOPE]
    if unknown:
        raise TokenError(
            "invalid_scope", f"Unknown scope '{unknown[0]}'; the only scope is '{TOKEN_SCOPE}'."
        )


async def token(request: Request) -> Response:
    """``POST /connect/token``: an access token for the client's account."""
    mock = mock_of(request)
    try:
        form = await _read_form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _invalid_request("'grant_type' is required; use 'client_credentials'.")
        if grant_type != "client_credentials":
            raise TokenError(
                "unsupported_grant_type",
                f"The grant type '{grant_type}' is not supported; use 'client_credentials'.",
            )
        client_id, secret = _client_credentials(request, form)
        account = await mock.account_for_client(client_id, secret)
        if account is None:
            raise _invalid_client("The client is unknown or its secret is wrong.")
        _check_scope(form)
    except TokenError as exc:
        return _error_response(exc)
    issued = await mock.issue_token(account)
    return json_response(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": TOKEN_SCOPE,
        },
        headers=_NO_STORE,
    )
