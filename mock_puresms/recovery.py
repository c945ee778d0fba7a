"""Carrying on after a restart: what a durable store kept is resumed, at once or, for
the part the store loads in the background, as it comes in.

A store with a large file answers ``open`` before every message is in memory
(``Recovered.rest``, see ``storage.sqlite.store``). ``Recovery`` runs that rest as a
task of the event loop after start-up and hands each part's messages in flight to the
simulation and its owed receipts to the webhook dispatcher, so that every lifecycle step
and receipt resumes as if the whole file had been loaded before the server answered.
Work that must see every message (a clock advance, retention, a reset) waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from mock_puresms.domain.events import EventBus, MessagesLoaded
from mock_puresms.domain.ports import Recovered
from mock_puresms.simulation.engine import SimulationEngine
from mock_puresms.webhooks.dispatcher import WebhookDispatcher

log = logging.getLogger("mock_puresms")


class Recovery:
    """Resumes what a store recovered, and finishes its background load."""

    def __init__(
        self, engine: SimulationEngine, webhooks: WebhookDispatcher, events: EventBus
    ) -> None:
        self._engine = engine
        self._webhooks = webhooks
        self._events = events
        self._task: asyncio.Task[None] | None = None

    def start(self, recovered: Recovered) -> None:
        """Resume what ``open`` returned; load the rest, if any, in the background."""
        self._resume(recovered)
        if recovered.rest is not None:
            log.info(
                "%d messages loaded at start-up; the rest load in the background (lists, "
                "clock advances, retention and resets wait for them)",
                recovered.loaded,
            )
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._finish(recovered.rest), name="mock-puresms-load")

    @property
    def loading(self) -> bool:
        """Whether the store is still loading in the background."""
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        """Return once the store has loaded everything and it has been resumed."""
        task = self._task
        if task is not None and not task.done():
            # A waiting request that goes away must not stop the load for everyone.
            await asyncio.shield(task)

    async def stop(self) -> None:
        """Stop a background load (server shutdown)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _resume(self, part: Recovered) -> None:
        self._engine.resume(part.in_flight)
        self._engine.resume_replies(part.in_flight)
        if part.receipts or part.deliveries:
            self._webhooks.resume(part.receipts, part.deliveries)
        if part.loaded:
            self._events.publish(MessagesLoaded(part.loaded))

    async def _finish(self, rest: AsyncIterator[Recovered]) -> None:
        started = time.perf_counter()
        loaded = 0
        try:
            async for part in rest:
                self._resume(part)
                loaded += part.loaded
        except Exception:
            # The store answers from what it loaded; the log says what went wrong.
            log.exception("loading the rest of the --db file failed")
        else:
            log.info(
                "all messages loaded: %d in the background in %.1f s",
                loaded,
                time.perf_counter() - started,
            )
