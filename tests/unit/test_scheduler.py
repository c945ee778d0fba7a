"""The scheduler: one time-ordered queue of actions on the mock clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from mock_puresms.simulation.clock import RealClock, VirtualClock
from mock_puresms.simulation.scheduler import ClockNotVirtual, Scheduler

START = 1_000_000


def virtual() -> tuple[VirtualClock, Scheduler]:
    clock = VirtualClock(start=START)
    return clock, Scheduler(clock)


def test_events_run_in_time_order_with_ties_in_insertion_order() -> None:
    clock, scheduler = virtual()
    ran: list[tuple[str, int, int]] = []

    def record(name: str) -> Callable[[int], None]:
        return lambda due: ran.append((name, due, clock.now()))

    for name, offset in [("d", 30), ("a", 10), ("c", 20), ("b", 10), ("e", 20), ("f", 10)]:
        scheduler.at(START + offset, record(name))

    count = asyncio.run(scheduler.advance(30))

    assert count == 6
    # Each action is given its due time, and the clock reads that time while it runs.
    assert ran == [
        ("a", START + 10, START + 10),
        ("b", START + 10, START + 10),
        ("f", START + 10, START + 10),
        ("c", START + 20, START + 20),
        ("e", START + 20, START + 20),
        ("d", START + 30, START + 30),
    ]
    assert clock.now() == START + 30
    assert len(scheduler) == 0


def test_advance_stops_at_the_target_and_runs_an_event_due_exactly_then() -> None:
    clock, scheduler = virtual()
    ran: list[int] = []
    for offset in (999, 1000, 1001):
        scheduler.at(START + offset, ran.append)

    assert asyncio.run(scheduler.advance(999)) == 1
    assert asyncio.run(scheduler.advance(1)) == 1

    assert ran == [START + 999, START + 1000]
    assert clock.now() == START + 1000
    assert scheduler.next_due() == START + 1001


def test_event_scheduled_inside_the_window_runs_in_the_same_advance() -> None:
    _, scheduler = virtual()
    ran: list[tuple[str, int]] = []

    def first(due: int) -> None:
        ran.append(("first", due))
        scheduler.at(due + 5, lambda d: ran.append(("inside", d)))
        scheduler.at(due + 1000, lambda d: ran.append(("outside", d)))
        # Scheduled in the past of the queue's head: still runs before later events.
        scheduler.at(due, lambda d: ran.append(("now", d)))

    scheduler.at(START + 10, first)
    scheduler.at(START + 12, lambda d: ran.append(("later", d)))

    asyncio.run(scheduler.advance(100))

    assert ran == [
        ("first", START + 10),
        ("now", START + 10),
        ("later", START + 12),
        ("inside", START + 15),
    ]
    assert scheduler.next_due() == START + 1010
    asyncio.run(scheduler.advance(1000))
    assert ran[-1] == ("outside", START + 1010)


def test_advance_returns_only_after_async_events_and_their_followers_ran() -> None:
    _, scheduler = virtual()
    ran: list[str] = []

    async def slow(due: int) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        ran.append("slow")
        scheduler.at(due + 1, follower)

    async def follower(due: int) -> None:
        await asyncio.sleep(0.001)
        ran.append("follower")

    scheduler.at(START + 1, slow)
    scheduler.at(START + 1, lambda due: ran.append("sync"))

    async def scenario() -> None:
        await scheduler.advance(10)
        ran.append("advance returned")

    asyncio.run(scenario())

    assert ran == ["slow", "sync", "follower", "advance returned"]


def test_concurrent_advances_run_each_event_once_in_order() -> None:
    clock, scheduler = virtual()
    ran: list[int] = []

    async def step(due: int) -> None:
        await asyncio.sleep(0)
        ran.append(due)

    for offset in range(1, 11):
        scheduler.at(START + offset * 100, step)

    async def both() -> None:
        await asyncio.gather(scheduler.advance(500), scheduler.advance(500))

    asyncio.run(both())

    assert ran == [START + offset * 100 for offset in range(1, 11)]
    assert clock.now() == START + 1000


def test_failing_action_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, scheduler = virtual()
    ran: list[str] = []

    def broken(due: int) -> None:
        raise RuntimeError("boom")

    async def broken_async(due: int) -> None:
        raise ValueError("async boom")

    scheduler.at(START + 1, lambda due: ran.append("before"))
    scheduler.at(START + 2, broken)
    scheduler.at(START + 3, broken_async)
    scheduler.at(START + 4, lambda due: ran.append("after"))

    with caplog.at_level(logging.ERROR, logger="mock_puresms.scheduler"):
        count = asyncio.run(scheduler.advance(10))

    assert ran == ["before", "after"]
    assert count == 4
    failures = [r for r in caplog.records if r.name == "mock_puresms.scheduler"]
    assert [r.exc_info[1].args[0] for r in failures if r.exc_info and r.exc_info[1]] == [
        "boom",
        "async boom",
    ]
    assert clock.now() == START + 10


def test_clear_forgets_pending_events() -> None:
    _, scheduler = virtual()
    ran: list[int] = []
    scheduler.at(START + 1, ran.append)

    scheduler.clear()
    asyncio.run(scheduler.advance(10))

    assert ran == []
    assert scheduler.next_due() is None


def test_negative_advance_does_not_move_the_clock_back() -> None:
    clock, scheduler = virtual()

    asyncio.run(scheduler.advance(-500))

    assert clock.now() == START


def test_real_clock_cannot_be_advanced_by_hand() -> None:
    scheduler = Scheduler(RealClock())

    with pytest.raises(ClockNotVirtual):
        asyncio.run(scheduler.advance(1000))


def test_real_clock_loop_runs_an_event_when_it_falls_due() -> None:
    clock = RealClock(time_scale=1000)

    async def scenario() -> list[tuple[int, int]]:
        scheduler = Scheduler(clock)
        scheduler.start()
        ran: list[tuple[int, int]] = []
        done = asyncio.Event()

        def record(due: int) -> None:
            ran.append((due, clock.now()))
            if len(ran) == 2:
                done.set()

        try:
            # Let the loop go to sleep on an empty queue first: scheduling must wake it.
            await asyncio.sleep(0.01)
            due = clock.now() + 50_000  # 50 s of mock time is 50 ms of wall time
            scheduler.at(due, record)
            scheduler.at(clock.now() + 100, record)  # earlier: must wake the loop again
            await asyncio.wait_for(done.wait(), 2)
        finally:
            await scheduler.stop()
        return ran

    ran = asyncio.run(scenario())

    assert len(ran) == 2
    (first_due, first_ran), (second_due, second_ran) = ran
    assert first_due < second_due
    # Never early: each ran once the clock had reached its due time.
    assert first_ran >= first_due
    assert second_ran >= second_due


def test_stopped_real_clock_loop_runs_nothing_more() -> None:
    clock = RealClock(time_scale=1000)

    async def scenario() -> list[int]:
        scheduler = Scheduler(clock)
        scheduler.start()
        ran: list[int] = []
        await scheduler.stop()
        scheduler.at(clock.now() + 10, ran.append)
        await asyncio.sleep(0.05)
        return ran

    assert asyncio.run(scenario()) == []
