"""README's chaos scenario (``<!-- run: chaos-scenario -->``) does what the README says,
on a real server with a real receiver."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.testing.webhook_sink import SinkServer

README = Path(__file__).resolve().parents[2] / "README.md"
SNIPPET = re.compile(r"<!-- run: chaos-scenario -->\n```yaml\n(?P<code>.*?)```", re.S)


def test_the_readme_chaos_scenario_runs_as_described(
    live_server: Callable[..., ServerThread],
) -> None:
    found = SNIPPET.search(README.read_text(encoding="utf-8"))
    assert found is not None, "README.md lost its chaos-scenario example"
    server = live_server()
    key = {"X-API-Key": "readme-chaos"}
    with SinkServer() as sinks, httpx.Client(base_url=server.base_url, trust_env=False) as http:
        receiver = sinks.sink(at_root=True)
        yaml_type = {"Content-Type": "application/yaml"}
        response = http.put("/_mock/scenario", content=found["code"], headers=yaml_type)
        assert response.status_code == 200, response.text
        hooks = {"deliveryReceiptUrl": receiver.url_for("/r"), "secret": "whsec"}
        assert http.put("/v1/Account/Webhooks", json=hooks, headers=key).is_success
        for i in range(8):
            message = {
                "to": "447700900100",
                "from": "Acme",
                "content": "Hi",
                "clientReference": f"C{i}",
            }
            assert http.post("/v1/Sms/Send", json=message, headers=key).is_success
            assert http.post("/_mock/clock/advance", json={"seconds": 1}).is_success
        assert http.post("/_mock/clock/advance", json={"seconds": 300}).is_success
        items = http.get("/_mock/webhooks", params={"pageSize": 100}).json()["items"][::-1]

    assert len(items) == 8
    kinds = [[mark["kind"] for mark in item["chaos"]] for item in items]
    # `next: 2` rules take the first two deliveries; the first gets the bad signature.
    assert "delay" in kinds[0] and "delay" in kinds[1]
    assert "badSignature" in kinds[0]
    assert all(
        1000 <= m["delayMs"] <= 120000 for i in items for m in i["chaos"] if m["kind"] == "delay"
    )
    assert items[0]["attempts"][0]["chaos"] == ["delay", "badSignature"]
    assert all(item["state"] == "delivered" for item in items)
    # Every copy the receiver got is a marked duplicate of a delivery it already had.
    duplicates = sum(1 for item in items for a in item["attempts"] if a["chaos"] == ["duplicate"])
    assert duplicates == sum(kinds_of.count("duplicate") for kinds_of in kinds)
    assert len(receiver.posts()) == sum(len(item["attempts"]) for item in items)
