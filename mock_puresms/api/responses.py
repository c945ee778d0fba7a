"""JSON responses serialised with orjson, the one encoder every surface uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


def json_response(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(data),
        status_code=status_code,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )
