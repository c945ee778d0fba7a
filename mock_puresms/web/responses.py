"""JSON responses serialised with orjson, the one encoder every surface uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


def json_response(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    if headers or status_code < 200 or status_code in (204, 304):
        return Response(
            orjson.dumps(data),
            status_code=status_code,
            headers=dict(headers) if headers else None,
            media_type="application/json",
        )
    return _EncodedJSON(orjson.dumps(data), status_code)


class _EncodedJSON(Response):
    """A JSON body with exactly the headers Starlette would give it, written directly:
    ``Response.__init__`` works them out in general, at a cost a single send notices."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
