"""The current API's error body: FastEndpoints' default, as the real service answers.

``{"statusCode": 400, "message": "One or more errors occurred!", "errors": {"recipient":
[...], "generalErrors": [...]}}`` as ``application/problem+json``; other statuses carry
their own ``message`` and no ``errors``. Every Connect endpoint is wrapped by
``connect_endpoint``, so the errors the shared building blocks raise in v1's shape
(``ProblemError`` from the body reader, ``NotFound``/``Conflict`` from the façade) are
answered in this one instead, and v1's handlers never see them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.web.problems import ProblemError
from mock_puresms.web.routing import Endpoint

VALIDATION_MESSAGE = "One or more errors occurred!"
GENERAL = "generalErrors"
SERIALIZER = "serializerErrors"

Errors = dict[str, list[str]]


class ConnectError(Exception):
    """Raised in a Connect endpoint to answer with the FastEndpoints error body."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, list[str]] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors) if errors is not None else None
        self.headers = dict(headers) if headers else None


def validation_error(errors: Mapping[str, list[str]]) -> ConnectError:
    """A ``400`` whose ``errors`` name each field by its camelCase path."""
    return ConnectError(400, VALIDATION_MESSAGE, errors)


def field_error(field: str, message: str) -> ConnectError:
    return validation_error({field: [message]})


def general_error(message: str) -> ConnectError:
    """A ``400`` not tied to one field (an unknown id, nothing to cancel)."""
    return validation_error({GENERAL: [message]})


def error_response(
    status: int,
    message: str,
    errors: Mapping[str, list[str]] | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {"statusCode": status, "message": message}
    if errors is not None:
        body["errors"] = dict(errors)
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )


def _from_problem(exc: ProblemError) -> ConnectError:
    """A shared building block's v1-shaped error (413, 415), in this surface's shape."""
    if exc.status == 400 and exc.errors is not None:
        # The body reader's only 400s are about the JSON itself (key "$").
        return validation_error({SERIALIZER: [m for ms in exc.errors.values() for m in ms]})
    return ConnectError(exc.status, exc.detail or str(exc))


def connect_endpoint(handler: Endpoint) -> Endpoint:
    """``handler`` answering its errors in the FastEndpoints shape."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ConnectError as exc:
            return error_response(exc.status, exc.message, exc.errors, exc.headers)
        except ProblemError as exc:
            error = _from_problem(exc)
            return error_response(error.status, error.message, error.errors)
        except (NotFound, Conflict) as exc:
            # The service answers an id it cannot act on with a 400 (API.md 9.3).
            return error_response(400, VALIDATION_MESSAGE, {GENERAL: [str(exc)]})

    return endpoint
