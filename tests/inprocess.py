"""The in-process mock the ``mock`` fixture of ``conftest.py`` gives: a client and its core.

A module of its own (not ``conftest``) so tests import it by a name no other folder's
``conftest.py`` shares.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mock_puresms.app import mock_for
from mock_puresms.core import Mock as CoreMock

API_KEY = "test-key"


class Mock:
    """An in-process mock on the virtual clock, with its client and its core (the façade)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.core: CoreMock = mock_for(client.app)  # type: ignore[arg-type]

    def v1(self, method: str, path: str, key: str | None = API_KEY, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers.setdefault("X-API-Key", key)
        return self.client.request(method, path, headers=headers, **kwargs)

    def send(self, key: str = API_KEY, is_test: bool = False, **fields: Any) -> dict[str, Any]:
        body = {"to": "447700900100", "from": "Acme", "content": "Hello", **fields}
        response = self.v1(
            "POST", "/v1/Sms/Send" + ("?isTest=true" if is_test else ""), key, json=body
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def advance(self, seconds: float) -> None:
        response = self.client.post("/_mock/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def message(self, reference: str, key: str = API_KEY) -> dict[str, Any]:
        response = self.v1("GET", f"/v1/Sms/{reference}", key)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result
