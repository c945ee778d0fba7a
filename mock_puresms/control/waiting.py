"""Long polls on message statuses: woken by the event bus, never by polling."""

from __future__ import annotations

import asyncio
from operator import attrgetter

from mock_puresms.domain.events import Event, StatusChanged, StatusesChanged


class StatusWaiters:
    """Futures per message reference, resolved when that message's status changes.

    A woken waiter rechecks the message itself, so a wake-up says only "look again":
    a status change, or a reset that may have forgotten the message.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    def __call__(self, event: Event) -> None:
        if not self._waiting:
            return
        if isinstance(event, StatusChanged):
            for future in self._waiting.pop(event.message.reference, ()):
                _resolve(future)
        elif isinstance(event, StatusesChanged):
            changed = set(map(attrgetter("reference"), event.messages))
            for reference in changed & self._waiting.keys():
                for future in self._waiting.pop(reference):
                    _resolve(future)

    def watch(self, reference: str) -> asyncio.Future[None]:
        """A future resolved at the next status change of ``reference``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(reference, set()).add(future)
        return future

    def forget(self, reference: str, future: asyncio.Future[None]) -> None:
        futures = self._waiting.get(reference)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self._waiting[reference]

    def wake_all(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for futures in waiting.values():
            for future in futures:
                _resolve(future)

    def __len__(self) -> int:
        return sum(len(futures) for futures in self._waiting.values())


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
