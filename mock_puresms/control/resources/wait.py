"""``/_mock/wait``: long-poll until a message reaches a status."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import control_message_json
from mock_puresms.control.state import control_of
from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import ProblemError, field_error, validation_error
from mock_puresms.web.responses import json_response

MAX_WAIT_SECONDS = 300.0


def _wait_timeout(query: Query) -> float:
    raw = query.text("timeout")
    if raw is None:
        return 10.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:  # also refuses nan
        raise field_error(
            "timeout", f"'timeout' must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}."
        )
    return value


def _has_reached(message: Message, status: DeliveryStatus) -> bool:
    return message.status is status or any(entry.status is status for entry in message.history)


async def wait_for_status(request: Request) -> Response:
    """Long-poll until a message has reached a status; woken by the core's events."""
    mock = mock_of(request)
    query = Query(request)
    errors: dict[str, list[str]] = {}
    reference = query.text("reference")
    if reference is None:
        errors["reference"] = ["'reference' is required: the message to wait for."]
    wanted: DeliveryStatus | None = None
    try:
        wanted = query.status("deliveryStatus")
        if wanted is None:
            errors["deliveryStatus"] = ["'deliveryStatus' is required: a code or a name."]
    except ProblemError as exc:
        errors.update(exc.errors or {})
    try:
        timeout = _wait_timeout(query)
    except ProblemError as exc:
        errors.update(exc.errors or {})
    if errors:
        raise validation_error(errors)
    assert reference is not None and wanted is not None
    control = control_of(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    disconnected = asyncio.ensure_future(_disconnect(request))
    closing = control.closing.future()
    try:
        while True:
            changed = control.waiters.watch(reference)
            try:
                message = await mock.find_message(reference)
                if message is None:
                    raise ProblemError(404, f"No message with reference '{reference}'.")
                if _has_reached(message, wanted):
                    return json_response(control_message_json(message))
                if message.is_final:
                    raise ProblemError(
                        409,
                        f"Message {reference} is {message.status.label}, a final status: "
                        f"it will never be {wanted.label}.",
                    )
                remaining = deadline - loop.time()
                if closing.done():
                    raise ProblemError(503, "The mock is shutting down.")
                if remaining <= 0 or disconnected.done():
                    raise ProblemError(
                        408,
                        f"Message {reference} did not reach {wanted.label} within "
                        f"{timeout:g} s; it is {message.status.label}.",
                    )
                await asyncio.wait(
                    {changed, closing, disconnected},
                    timeout=remaining,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                control.waiters.forget(reference, changed)
    finally:
        control.closing.discard(closing)
        disconnected.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await disconnected


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
