"""One queue of due events drives everything time-based, so there is one notion of now.

Each event is a callable given the mock-clock time it was due. On the real clock a
background task runs events as they fall due; on the virtual clock ``advance`` runs
every event due by the new time, in time order, before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable

from mock_puresms.simulation.clock import Clock, VirtualClock

log = logging.getLogger("mock_puresms.scheduler")

Action = Callable[[int], Awaitable[None] | None]


class ClockNotVirtual(Exception):
    """Only the virtual clock can be advanced by hand."""


class Scheduler:
    """A time-ordered queue of actions on the mock clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._queue: list[tuple[int, int, Action]] = []
        self._sequence = itertools.count()
        self._wake = asyncio.Event()
        self._advancing = asyncio.Lock()
        self._runner: asyncio.Task[None] | None = None
        self._settlers: list[Callable[[], Awaitable[None]]] = []

    def __len__(self) -> int:
        return len(self._queue)

    def at(self, due: int, action: Action) -> None:
        """Run ``action(due)`` once the clock reaches ``due``; ties run in insertion order."""
        heapq.heappush(self._queue, (due, next(self._sequence), action))
        if self._runner is not None and self._queue[0][0] == due:
            self._wake.set()

    def next_due(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def clear(self) -> None:
        """Forget every pending event (a reset)."""
        self._queue.clear()

    async def _run(self, due: int, action: Action) -> None:
        try:
            result = action(due)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("scheduled event due at %s failed", due)

    def add_settler(self, settle: Callable[[], Awaitable[None]]) -> None:
        """Register work to wait for before virtual time moves past an instant.

        The webhook dispatcher starts POSTs as tasks so that those due together run
        concurrently; ``advance`` waits for them (and for what they schedule) before
        running anything due later, so events still happen in time order.
        """
        self._settlers.append(settle)

    async def _settle(self) -> None:
        for settle in self._settlers:
            await settle()

    async def run_due(self, until: int, *, settle: bool = False) -> int:
        """Run every event due at or before ``until``, in time order; returns how many.

        Events an action schedules inside the window run too. With ``settle``, the
        settlers are awaited each time the events of one instant have run.
        """
        count = 0
        queue = self._queue
        virtual = self.clock if isinstance(self.clock, VirtualClock) else None
        while True:
            if not queue or queue[0][0] > until:
                if not settle:
                    break
                await self._settle()
                if not queue or queue[0][0] > until:
                    break
            due, _, action = heapq.heappop(queue)
            if virtual is not None:
                virtual.move_to(due)
            await self._run(due, action)
            count += 1
            if settle and (not queue or queue[0][0] > due):
                await self._settle()
        return count

    async def advance(self, milliseconds: int) -> int:
        """Move the virtual clock forward, running what falls due; returns the event count.

        Returns once every event due by the new time has run and the settlers (webhook
        POSTs due by then) are done.
        """
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise ClockNotVirtual("the clock is real; only a virtual clock can be advanced")
        async with self._advancing:
            target = clock.now() + max(0, milliseconds)
            count = await self.run_due(target, settle=True)
            clock.move_to(target)
            return count

    def start(self) -> None:
        """On the real clock, start running events as they fall due."""
        if self.clock.mode == "real" and self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._real_time_loop())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    async def _real_time_loop(self) -> None:
        while True:
            self._wake.clear()
            due = self.next_due()
            delay = None if due is None else self.clock.wall_seconds_until(due)
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            await self.run_due(self.clock.now())
