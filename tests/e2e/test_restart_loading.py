"""``serve --db`` on a file of many messages: healthy before they are all loaded, and
nothing a client can see tells that the rest loads in the background.

A real server fills its file with 150,000 finished messages (enough that loading them
takes many turns after the first fraction of a second), then a few messages of another
account are left in flight with their receipts owed, and the server is killed. Started
again, it answers health while it still loads; a list then waits and counts everything,
a send is accepted and listed after the loaded messages, and after a clock advance the
messages in flight reach their final status and every receipt owed is POSTed.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from test_restarts import Launch, advance, bulk_body, launch, ok, send  # noqa: F401

from mock_puresms.testing.webhook_sink import SinkServer

FILLER = {"X-API-Key": "filler-key", "Content-Type": "application/json"}
TRACKED = {"X-API-Key": "restart-key"}
BULKS = 10  # of 15,000
CONFIG = "webhooks: {batchWindow: 250ms, firstRetry: 1s, maxInterval: 1m}\n"
STARTED = "the rest load in the background"
FINISHED = "all messages loaded"


@pytest.mark.slow
def test_a_restart_is_healthy_while_loading_and_loses_nothing(
    launch: Launch,  # noqa: F811 - the fixture, imported
    tmp_path: Path,
) -> None:
    db = tmp_path / "mock.db"
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    args = ("--clock", "virtual", "--config", str(config))
    sinks = SinkServer()
    receiver = sinks.sink(at_root=True)
    try:
        first = launch(db, *args)
        with first.client(FILLER) as filler:
            for number in range(BULKS):
                ok(filler.post("/v1/Sms/SendBulk", content=bulk_body(f"FILL-{number}")))
            advance(filler, 10)  # every filler message final
        with first.client(TRACKED) as client:
            url = receiver.url_for("/receipts")
            ok(client.put("/v1/Account/Webhooks", json={"deliveryReceiptUrl": url}))
            tracked = [send(client, to)["reference"] for to in ("447700900000", "447700900100")]
            advance(client, 1.2)  # Enroute at +1 s: receipts owed until the window ends
        assert receiver.posts() == []
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL

        second = launch(db, *args, "--log-level", "info")
        log = second.log.read_text()
        assert STARTED in log and FINISHED not in log  # healthy before everything loaded
        with second.client(TRACKED) as client:
            sent = send(client, "447700900200")["reference"]  # accepted while loading
            assert FINISHED not in second.log.read_text()
            mine = ok(client.get("/v1/Sms", params={"pageSize": "10"}))  # waits for the load
            assert mine["totalCount"] == 3
            assert [m["reference"] for m in mine["items"]] == [sent, *reversed(tracked)]
            every = ok(client.get("/_mock/messages", params={"pageSize": "1"}))
            assert every["totalCount"] == BULKS * 15_000 + 3
            with second.client(FILLER) as filler:
                delivered = ok(filler.get("/v1/Sms", params={"deliveryStatus": "2"}))
                assert 0 < delivered["totalCount"] <= BULKS * 15_000

            advance(client, 10)  # after the load and all it resumes
            assert FINISHED in second.log.read_text()
            statuses = {
                m["reference"]: [e["deliveryStatusName"] for e in m["history"]]
                for m in ok(client.get("/v1/Sms", params={"pageSize": "10"}))["items"]
            }
            for reference in [*tracked, sent]:
                assert statuses[reference] == ["Accepted", "Enroute", "Delivered"], reference
        receipts = [
            (r["reference"], r["deliveryStatus"])
            for post in receiver.posts("/receipts")
            if post.ok
            for r in post.json
        ]
        for reference in tracked:  # the Enroute owed at the kill, then Delivered
            assert [s for ref, s in receipts if ref == reference] == [1, 2], reference
        assert [s for ref, s in receipts if ref == sent] == [1, 2]
        assert second.stop(signal.SIGTERM) == -signal.SIGTERM
    finally:
        sinks.close()
