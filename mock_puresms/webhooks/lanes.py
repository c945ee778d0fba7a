"""Bounded concurrency for outbound POSTs: one lane of work per URL, a few workers each.

Each URL has a queue and at most ``per_lane`` workers draining it, and at most
``total`` workers run across all lanes, so one slow or dead receiver holds a couple of
slots, never all of them. A worker takes jobs one after another until its lane is empty:
a burst of a thousand POSTs costs a handful of tasks, not a task and two semaphore waits
per POST (``benchmarks/bench_webhooks.py`` measured the difference).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("mock_puresms.webhooks")

Job = TypeVar("Job")

MAX_CONCURRENT_POSTS = 32
# Two in flight per URL keeps a receiver busy while the mock prepares the next POST.
# bench_webhooks.py, with per-URL semaphores: 8 gave 0.35-0.44 of the ceiling, 2 gave
# 0.54-0.68, 1 less than 2; with lanes, one run each: 1 gave 0.56, 4 gave 0.57, 2 gave
# 0.70 (within this machine's noise, so 2 stayed).
MAX_CONCURRENT_POSTS_PER_URL = 2


class Lanes(Generic[Job]):
    """Runs ``work(job)`` for jobs put on named lanes, first in first out per lane."""

    def __init__(self, work: Callable[[Job], Awaitable[None]], per_lane: int, total: int) -> None:
        self._work = work
        self._per_lane = per_lane
        self._total = total
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, int] = {}
        # Lanes with jobs but no worker, because ``total`` were busy: served in turn.
        self._starved: deque[str] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def put(self, lane: str, job: Job) -> None:
        queue = self._queues.get(lane)
        if queue is None:
            queue = self._queues[lane] = deque()
        queue.append(job)
        # A lane's workers are all busy (they stop when it runs dry): add one if allowed.
        if self._workers.get(lane, 0) < self._per_lane:
            self._start_worker(lane)

    def _start_worker(self, lane: str) -> None:
        if self._running >= self._total:
            if lane not in self._starved:
                self._starved.append(lane)
            return
        self._running += 1
        self._workers[lane] = self._workers.get(lane, 0) + 1
        task = asyncio.get_running_loop().create_task(self._drain_lane(lane))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_lane(self, lane: str) -> None:
        try:
            queue = self._queues[lane]
            while queue:
                try:
                    await self._work(queue.popleft())
                except Exception:  # a bug in one job must not stop its lane
                    log.exception("webhook job on %s failed", lane)
        finally:
            self._worker_done(lane)

    def _worker_done(self, lane: str) -> None:
        self._running -= 1
        left = self._workers[lane] - 1
        if left:
            self._workers[lane] = left
        else:
            del self._workers[lane]
            if not self._queues.get(lane):
                self._queues.pop(lane, None)
        while self._starved and self._running < self._total:
            waiting = self._starved.popleft()
            if self._queues.get(waiting) and self._workers.get(waiting, 0) < self._per_lane:
                self._start_worker(waiting)

    async def drain(self) -> None:
        """Wait until every lane is empty and every worker has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def clear(self) -> None:
        """Drop every queued job (workers finish the one they are on)."""
        for queue in self._queues.values():
            queue.clear()
        self._starved.clear()

    async def close(self) -> None:
        """Stop: queued jobs are dropped first, so no worker ending starts another."""
        self.clear()
        for task in list(self._tasks):
            task.cancel()
        await self.drain()
