"""The ceiling of this stack: a bare Starlette endpoint that parses the JSON body and answers."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def accept(request: Request) -> Response:
    body = orjson.loads(await request.body())
    count = len(body.get("messages", ())) if isinstance(body, dict) else 0
    return Response(orjson.dumps({"ok": True, "count": count}), media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/Sms/Send", accept, methods=["POST"]),
        Route("/v1/Sms/SendBulk", accept, methods=["POST"]),
        # The current API's sends (Divergent Connect): the same ceiling.
        Route("/sms/send", accept, methods=["POST"]),
        Route("/sms/send/bulk", accept, methods=["POST"]),
        Route("/_mock/health", health),
    ]
)
