"""The dispatcher's Connect path: one event per POST per endpoint, beside v1 receipts."""

from __future__ import annotations

import dataclasses

import orjson
from dispatch_harness import DEFAULT_URL, ENROUTE, Harness, in_loop

from mock_puresms.domain.endpoints import Endpoint
from mock_puresms.domain.messages import CONNECT

HOOK = "http://receiver.test/connect"


@in_loop
async def test_one_group_of_both_apis_is_split_between_receipts_and_events() -> None:
    # After a restart the simulation may move v1 and Connect messages in one group.
    mock = Harness({"connectTimeout": "3s", "timeout": "2s"})
    mock.accounts["acc"].endpoints = [Endpoint(HOOK, (1,))]
    v1 = [mock.message(), mock.message()]
    connect = [dataclasses.replace(mock.message(), reference=str(2**62 + n), api=CONNECT)
               for n in range(2)]  # fmt: skip
    mock.change([v1[0], connect[0], v1[1], connect[1]], ENROUTE)
    await mock.advance(1_000)

    (receipts,) = mock.sender.to(DEFAULT_URL)
    assert receipts.references == [v1[0].reference, v1[1].reference]
    assert receipts.timeout == 2.0
    events = mock.sender.to(HOOK)
    assert sorted(orjson.loads(p.raw)["data"]["MessageId"] for p in events) == [
        2**62,
        2**62 + 1,
    ]
    assert {p.timeout for p in events} == {3.0}  # webhooks.connectTimeout
    assert {d.kind for d in mock.deliveries()} == {"receipts", "connect.receipt"}
