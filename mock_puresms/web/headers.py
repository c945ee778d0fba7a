"""Request headers read straight from the ASGI scope.

Starlette's ``request.headers.get`` builds a ``Headers`` view and goes through two
Python calls and a name conversion per lookup; a send reads three headers, and the
scan below costs a third of that. ASGI servers give header names in lower case
(the ASGI spec asks it, and ``Headers`` relies on it too), so a byte comparison finds
them.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection


def header(connection: HTTPConnection, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case), or ``None``."""
    raw: list[tuple[bytes, bytes]] = connection.scope["headers"]
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None
