"""ASGI middleware every response passes through: request ids, exceptions answered by
their handlers, the last-resort 500, and a quiet line for a client that hangs up
mid-body."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_puresms.web.problems import problem_response

log = logging.getLogger("mock_puresms")

_REQUEST_ID = b"x-request-id"
# Ids need to be unique, not secret: a PRNG seeded from the OS, not a system call each.
_request_ids = random.Random(os.urandom(32))


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class RequestIdMiddleware:
    """Echo the caller's ``X-Request-Id`` (or a new one) on every response, and answer
    the exceptions that escape the app.

    An exception of a type in ``handlers`` (or a subclass) is answered by its handler,
    as Starlette's ``ExceptionMiddleware`` would: this layer knows already whether the
    response has started, so the app needs no layer of its own for it (one layer fewer
    on every request). A bug that escapes a handler still answers a problem+json 500
    carrying the id, so a user can find the failing request in the log.
    """

    def __init__(
        self, app: ASGIApp, handlers: Mapping[type[Exception], ExceptionHandler] | None = None
    ) -> None:
        self.app = app
        self.handlers = dict(handlers or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                request_id = value.decode("latin-1")[:200]
                break
        if not request_id:
            request_id = f"{_request_ids.getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode("latin-1")
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0] != _REQUEST_ID]
                headers.append((_REQUEST_ID, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client's business, not a fault of the mock: one line, no traceback
            # (slow or vanishing clients must not flood the log with errors).
            log.info(
                "%s %s: the client went away before sending the whole body (request %s)",
                scope["method"],
                scope["path"],
                request_id,
            )
        except Exception as exc:
            handler = None if started else self._handler_for(exc)
            if handler is not None:
                response = await handler(Request(scope, receive), exc)
                await response(scope, receive, send_with_id)
                return
            log.exception("unhandled error in request %s", request_id)
            if started:
                raise
            response = problem_response(
                Request(scope), 500, "An unexpected error occurred in the mock; see its log."
            )
            await response(scope, receive, send_with_id)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None
