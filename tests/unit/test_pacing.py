"""A pause of a long request (``web/pacing.py``) lets a request that arrived during the
phase before it be answered before the next phase starts, not only be started."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from mock_puresms.web.pacing import PAUSE_FROM, between_phases, pause


async def _order_of_events(paused: Awaitable[None]) -> list[str]:
    order: list[str] = []
    loop = asyncio.get_running_loop()
    started: list[asyncio.Task[None]] = []

    async def answer_probe() -> None:  # a request answered in one step (a health probe)
        order.append("probe answered")

    def probe_arrived() -> None:  # as a protocol's data_received: starts the request's task
        started.append(loop.create_task(answer_probe()))

    async def long_request() -> None:
        await paused
        order.append("next phase")

    request = loop.create_task(long_request())
    await asyncio.sleep(0)  # the long request reaches its pause and yields
    # Polled I/O is queued behind the paused request's wake-up: the probe arrives now.
    loop.call_soon(probe_arrived)
    await request
    return order


def test_a_pause_answers_a_request_that_arrived_before_the_next_phase() -> None:
    assert asyncio.run(_order_of_events(pause())) == ["probe answered", "next phase"]


def test_a_bulk_pauses_between_phases_and_a_small_send_does_not() -> None:
    large = asyncio.run(_order_of_events(between_phases(PAUSE_FROM)))
    assert large == ["probe answered", "next phase"]
    # A smaller send goes straight on: its next phase comes before any probe.
    small = asyncio.run(_order_of_events(between_phases(PAUSE_FROM - 1)))
    assert small[0] == "next phase"


def test_one_pass_of_the_loop_would_not_be_enough() -> None:
    # The reason for several passes (LOOP_PASSES): a bare sleep(0) fails the order above.
    assert asyncio.run(_order_of_events(asyncio.sleep(0))) == ["next phase", "probe answered"]
