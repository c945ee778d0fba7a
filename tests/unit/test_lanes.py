"""Lanes: jobs run in order per lane, within the per-lane and total bounds, and one
failing job does not stop the jobs queued behind it."""

from __future__ import annotations

import asyncio

import pytest

from mock_puresms.webhooks.lanes import Lanes


def test_jobs_of_a_lane_start_in_order_and_a_failure_does_not_stop_the_lane(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started: list[int] = []

    async def work(job: int) -> None:
        started.append(job)
        await asyncio.sleep(0)
        if job == 2:
            raise RuntimeError("bug in job 2")

    async def run() -> None:
        lanes: Lanes[int] = Lanes(work, per_lane=1, total=4)
        for job in range(5):
            lanes.put("a", job)
        await lanes.drain()

    asyncio.run(run())

    assert started == [0, 1, 2, 3, 4]
    assert "bug in job 2" in caplog.text


def test_clear_drops_queued_jobs_and_starved_lanes_get_freed_slots() -> None:
    done: list[str] = []

    async def run() -> None:
        release = asyncio.Event()

        async def work(job: str) -> None:
            await release.wait()
            done.append(job)

        lanes: Lanes[str] = Lanes(work, per_lane=2, total=2)
        lanes.put("a", "a1")
        lanes.put("a", "a2")
        lanes.put("b", "b1")  # no slot left: waits for one
        lanes.put("a", "a3")
        await asyncio.sleep(0)
        release.set()
        await lanes.drain()
        assert sorted(done) == ["a1", "a2", "a3", "b1"]

        release.clear()
        done.clear()
        lanes.put("c", "c1")
        lanes.put("c", "c2")
        lanes.put("c", "c3")
        await asyncio.sleep(0)
        lanes.clear()  # c1 and c2 are running; c3 is dropped
        release.set()
        await lanes.drain()
        assert sorted(done) == ["c1", "c2"]

    asyncio.run(run())


def test_close_cancels_running_jobs_and_starts_no_queued_one() -> None:
    started: list[str] = []

    async def run() -> None:
        async def work(job: str) -> None:
            started.append(job)
            await asyncio.sleep(60)

        lanes: Lanes[str] = Lanes(work, per_lane=1, total=1)
        lanes.put("a", "a1")
        lanes.put("a", "a2")
        lanes.put("b", "b1")  # starved: the one slot is taken
        await asyncio.sleep(0)
        await asyncio.wait_for(lanes.close(), timeout=5)

    asyncio.run(run())

    assert started == ["a1"]
