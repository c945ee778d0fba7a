"""Where a request finds the mock it is served by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from mock_puresms.core import Mock


def mock_of(connection: HTTPConnection) -> Mock:
    """The façade of the app serving ``connection`` (a ``MockApp``: a plain attribute,
    read on every request, because ``app.state`` costs microseconds a read)."""
    mock: Mock = connection.scope["app"].mock
    return mock
