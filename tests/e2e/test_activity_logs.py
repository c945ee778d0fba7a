"""What the server logs about messages and webhooks (issue 15, point 2): a line per
message sent and per status change at ``debug``; a ``warning`` per failed webhook
attempt naming the URL, the status or error, the attempt and the next try; an ``info``
line when a delivery is given up or received after retries.

Each server is a real ``python -m mock_puresms serve`` process on the virtual clock, its
receipts POSTed to a real receiver on loopback; the lines are read from its stderr.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
from test_startup import Served, serving

from mock_puresms.testing.webhook_sink import SinkServer

ONE_STEP = "name: one-step\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n"
CONFIG = "webhooks: {maxAge: 10s}\n"


def call(served: Served, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
    headers = {"X-API-Key": key} if key else {}
    if "content" in kw:
        headers["Content-Type"] = "application/yaml"
    response = httpx.request(
        method, served.base_url + path, headers=headers, trust_env=False, timeout=30, **kw
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def drive(served: Served, good_url: str, dead_url: str) -> dict[str, Any]:
    """Account ``good`` gets its receipts at ``good_url``, ``dead`` at a refused URL; one
    message each and a bulk of three; then a minute of mock time. Returns the answers."""
    call(served, "PUT", "/_mock/scenario", content=ONE_STEP)
    for key, url in (("good", good_url), ("dead", dead_url)):
        call(served, "PUT", "/v1/Account/Webhooks", key, json={"deliveryReceiptUrl": url})
    message = {"to": "447700900100", "from": "Acme", "content": "Hello"}
    single = call(served, "POST", "/v1/Sms/Send", "good", json=message)
    bulk = call(served, "POST", "/v1/Sms/SendBulk", "dead", json={"messages": [message] * 3})
    call(served, "POST", "/_mock/clock/advance", json={"seconds": 60})
    return {"single": single, "bulk": bulk}


def test_debug_logs_each_send_and_status_change_and_every_failed_attempt(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(CONFIG)
    with SinkServer() as sinks:
        receiver = sinks.sink()
        receiver.respond_with(500, times=2)
        dead = SinkServer()
        with dead:
            dead_url = dead.sink(at_root=True).url_for("/gone")
        args = ("--clock", "virtual", "--log-level", "debug", "--config", str(config))
        with serving(tmp_path, *args) as served:
            answers = drive(served, receiver.url_for("/r"), dead_url)
            wait_for_line(served, "failed: gave up")
        log = served.stderr.read_text()

    single = answers["single"]["reference"]
    bulk = answers["bulk"]
    refs = [m["reference"] for m in bulk["messages"]]
    # One line per message sent, a summary for the bulk, one per status change.
    assert re.search(rf"DEBUG:.*sent {single} to 447700900100 from Acme", log), log
    assert re.search(rf"sent 3 messages \(batch {bulk['batchReference']}\)", log), log
    for reference in [single, *refs]:
        assert len(re.findall(rf"sent {reference} to", log)) == 1
        assert re.search(rf"{reference} became Delivered at \d{{4}}-\d\d-\d\dT[\d:.]+Z", log)
    # The receiver answered 500 twice: two warnings naming it, then received at the third.
    good = [line for line in log.splitlines() if "/r" in line and "webhook" in line]
    assert "WARNING" in good[0] and "attempt 1 failed (answered 500)" in good[0], good
    assert "next try at" in good[0] and "on the mock clock (in 1 s)" in good[0], good
    assert "attempt 2 failed (answered 500)" in good[1] and "(in 2 s)" in good[1], good
    assert "INFO" in good[2] and "received at attempt 3" in good[2], good
    assert len(good) == 3, good
    # The refused URL: a warning per attempt with the error, then given up (maxAge 10 s).
    gone = [line for line in log.splitlines() if dead_url in line]
    assert [line.split(":", 1)[0].strip() for line in gone] == ["WARNING"] * 4 + ["INFO"], gone
    for number, line in enumerate(gone[:3], start=1):
        assert f"attempt {number} failed (" in line and "next try at" in line, line
    assert "attempt 4 failed" in gone[3] and "no retry: maxAge reached" in gone[3], gone
    assert "failed: gave up after 4 attempts" in gone[4], gone


def test_info_shows_webhook_trouble_without_message_lines_and_json_has_fields(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(CONFIG)
    with SinkServer() as sinks:
        receiver = sinks.sink()
        dead = SinkServer()
        with dead:
            dead_url = dead.sink(at_root=True).url_for("/gone")
        args = ("--clock", "virtual", "--log-format", "json", "--config", str(config))
        with serving(tmp_path, *args) as served:
            drive(served, receiver.url_for("/r"), dead_url)
            wait_for_line(served, "failed: gave up")
        lines = [json.loads(line) for line in served.stderr.read_text().splitlines()]

    assert not [e for e in lines if e["logger"] == "mock_puresms.messages"]
    webhooks = [e for e in lines if e["logger"] == "mock_puresms.webhooks"]
    # The receiver that answered 200 at once is not mentioned at all.
    assert {e["url"] for e in webhooks} == {dead_url}
    first = webhooks[0]
    assert first["level"] == "WARNING"
    assert first["attempt"] == 1 and first["status"] is None and first["error"]
    assert first["nextAttemptAt"].endswith("Z")
    assert webhooks[-1]["level"] == "INFO" and webhooks[-1]["state"] == "failed"


def wait_for_line(served: Served, text: str, timeout: float = 20.0) -> None:
    """Attempts run after ``advance`` answers (POSTs settle, logs flush): wait for one."""
    deadline = time.monotonic() + timeout
    while text not in served.stderr.read_text():
        assert time.monotonic() < deadline, served.stderr.read_text()
        time.sleep(0.05)
