"""Errors as ASP.NET Core-shaped ``application/problem+json`` (RFC 9457) responses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import Response

# The RFC 9110 sections ASP.NET Core links each client and server error to.
_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    402: "https://tools.ietf.org/html/rfc9110#section-15.5.3",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    406: "https://tools.ietf.org/html/rfc9110#section-15.5.7",
    408: "https://tools.ietf.org/html/rfc9110#section-15.5.9",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}
VALIDATION_TITLE = "One or more validation errors occurred."

ValidationErrors = Mapping[str, list[str]]


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem response."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: ValidationErrors | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or VALIDATION_TITLE)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


def validation_error(errors: ValidationErrors) -> ProblemError:
    """A ``400`` whose ``errors`` name each offending field by its camelCase JSON path."""
    return ProblemError(400, errors=errors)


def field_error(field: str, message: str) -> ProblemError:
    return validation_error({field: [message]})


def trace_id(connection: HTTPConnection) -> str:
    """A W3C ``traceparent``-shaped id, as ASP.NET Core puts in ``traceId``."""
    request_id: str = connection.scope.get("state", {}).get("request_id", "")
    digest = hashlib.sha256(request_id.encode()).hexdigest()
    return f"00-{digest[:32]}-{digest[32:48]}-00"


def problem_body(
    connection: HTTPConnection,
    status: int,
    detail: str | None = None,
    errors: ValidationErrors | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _TYPES.get(status, "about:blank"),
        "title": VALIDATION_TITLE if errors is not None else _title(status),
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = dict(errors)
    body["traceId"] = trace_id(connection)
    return body


def problem_response(
    connection: HTTPConnection,
    status: int,
    detail: str | None = None,
    *,
    errors: ValidationErrors | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(connection, status, detail, errors)
    try:
        content = orjson.dumps(body)
    except TypeError:
        # A message echoing user text can hold lone surrogates (PyYAML makes them of
        # "\ud83d" escapes), which UTF-8 cannot carry: shown as U+FFFD, not a 500.
        content = orjson.dumps(_without_surrogates(body))
    return Response(
        content,
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/problem+json",
    )


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_surrogates(v) for v in value]
    return value


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
