"""Reading a v1 request body: content type (415), size (413), JSON syntax (400 under ``$``)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from mock_puresms.web.headers import header
from mock_puresms.web.problems import ProblemError, field_error

MAX_BODY_BYTES = 32 * 1024 * 1024


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (charset and other parameters ignored)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("application/json", "text/json") or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing with ``413`` as soon as it exceeds ``limit`` bytes."""
    declared = header(request, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    # ASGI messages read directly: Request.stream() is an async generator, which costs
    # a single send (one chunk) more than the rest of reading it.
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json(request: Request) -> Any:
    """The parsed JSON body of a v1 request, after the 415 and 413 checks."""
    if not is_json_type(header(request, b"content-type") or ""):
        raise ProblemError(
            415,
            "The request body must be JSON: send it with 'Content-Type: application/json'.",
        )
    raw = await read_body(request)
    if not raw.strip():
        raise field_error("$", "A non-empty request body is required.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise field_error("$", f"The JSON value could not be parsed: {exc}.") from exc


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, f"The request body is larger than {limit // (1024 * 1024)} MiB.")


def lowercase_keys(value: dict[str, Any]) -> dict[str, Any]:
    """Property names folded to lower case, since v1 matches them case-insensitively."""
    return {key.lower(): item for key, item in value.items()}
