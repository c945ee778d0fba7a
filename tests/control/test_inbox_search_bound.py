"""Issue 16, defect 4: the inbox's text search is the one message filter no index
answers, so it looks at a bounded number of the newest messages and says so when it
stopped there, instead of walking a million messages on the event loop."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_puresms.settings import Settings
from mock_puresms.storage.memory import messages as memory_messages
from mock_puresms.testing.server_thread import ServerThread

LIMIT = 40


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setattr(memory_messages, "TEXT_SCAN_LIMIT", LIMIT)
    with (
        ServerThread(Settings(port=0, clock="virtual")) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        yield client


def send_bulk(client: httpx.Client, contents: list[str]) -> str:
    body = {
        "from": "Shop",
        "messages": [{"to": f"4477009{i:05d}", "content": c} for i, c in enumerate(contents)],
    }
    response = client.post("/v1/Sms/SendBulk", json=body, headers={"X-API-Key": "k"})
    assert response.status_code == 200, response.text
    batch: str = response.json()["batchReference"]
    return batch


def test_a_search_stops_at_its_limit_and_says_so(client: httpx.Client) -> None:
    old = send_bulk(client, ["old needle"] * 3)
    send_bulk(client, ["filler"] * (LIMIT + 10))
    send_bulk(client, ["fresh hay"] * 2)

    beyond = client.get("/", params={"q": "needle"})
    assert beyond.status_code == 200
    assert 'id="partial"' in beyond.text and "old needle" not in beyond.text

    within = client.get("/", params={"q": "fresh"})
    assert within.text.count("fresh hay") >= 2  # found among the newest

    # A filter that leaves fewer candidates than the limit searches them all.
    few = client.get("/", params={"q": "needle", "batch": old})
    assert 'id="partial"' not in few.text and few.text.count("old needle") >= 3
