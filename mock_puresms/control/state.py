"""What the control surface keeps beside the core: faults, long polls, event streams.

One ``ControlState`` per app. Its parts subscribe to the core's events; none of them
changes the mock's state.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection

from mock_puresms.control.closing import Closing
from mock_puresms.control.events import EventStreams
from mock_puresms.control.faults import FaultTable
from mock_puresms.control.waiting import StatusWaiters
from mock_puresms.domain.events import Event, StateReset, Subscriber


class ControlState:
    """The control surface's own state, wired to the core's events."""

    def __init__(self, subscribe: Callable[[Subscriber], object]) -> None:
        self.closing = Closing()
        self.faults = FaultTable()
        self.waiters = StatusWaiters()
        self.streams = EventStreams(self.closing)
        subscribe(self.waiters)
        subscribe(self.streams)
        subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        # Called for every event, so the one test that matters comes first.
        if type(event) is StateReset:
            self.reset(event.account_id)

    def reset(self, account_id: str | None = None) -> None:
        """After a reset: faults go (server-wide, so only on a whole reset); waiters recheck."""
        if account_id is None:
            self.faults.clear()
        self.waiters.wake_all()

    def close(self) -> None:
        """The server is shutting down: end streams, long polls and injected delays."""
        self.closing.close()
        self.streams.close()


def control_of(connection: HTTPConnection) -> ControlState:
    """The control state of the app serving ``connection`` (a ``MockApp``)."""
    state: ControlState = connection.scope["app"].control
    return state
