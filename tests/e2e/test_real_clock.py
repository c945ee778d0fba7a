"""A real server on the real clock: lifecycles unfold in (sped-up) wall time, unasked."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from mock_puresms.domain.timestamps import parse_iso
from mock_puresms.testing.server_thread import ServerThread

HEADERS = {"X-API-Key": "e2e-key"}


def test_sped_up_real_clock_delivers_in_well_under_a_second(
    live_server: Callable[..., ServerThread],
) -> None:
    server = live_server(clock="real", time_scale=100)

    with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=5) as client:
        clock = client.get("/_mock/clock").json()
        assert (clock["mode"], clock["timeScale"]) == ("real", 100.0)
        started = time.monotonic()
        sent = client.post(
            "/v1/Sms/Send", json={"to": "447700900100", "from": "Acme", "content": "Hi"}
        )
        assert sent.status_code == 200, sent.text
        reference = sent.json()["reference"]

        deadline = started + 2
        message = sent.json()
        while message["deliveryStatusName"] != "Delivered" and time.monotonic() < deadline:
            time.sleep(0.02)
            message = client.get(f"/v1/Sms/{reference}").json()
        elapsed = time.monotonic() - started

    assert message["deliveryStatusName"] == "Delivered"
    assert elapsed < 1, f"3 s of mock time took {elapsed:.2f} s of wall time at 100x"
    # The history still carries mock-clock due times: 1 s and 3 s after acceptance.
    t0 = parse_iso(message["createdAt"])
    offsets = [(e["deliveryStatusName"], parse_iso(e["at"]) - t0) for e in message["history"]]
    assert offsets == [("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)]
