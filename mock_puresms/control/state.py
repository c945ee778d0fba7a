"""What the control surface keeps beside the domain: faults, long polls, event streams.

One ``ControlState`` per app. Its parts subscribe to the domain's event bus; none of
them changes domain state.
"""

from __future__ import annotations

from mock_puresms.control.closing import Closing
from mock_puresms.control.events import EventStreams
from mock_puresms.control.faults import FaultTable
from mock_puresms.control.waiting import StatusWaiters
from mock_puresms.domain.events import EventBus


class ControlState:
    """The control surface's own state, wired to the event bus."""

    def __init__(self, events: EventBus) -> None:
        self.closing = Closing()
        self.faults = FaultTable()
        self.waiters = StatusWaiters()
        self.streams = EventStreams(self.closing)
        events.subscribe(self.waiters)
        events.subscribe(self.streams)

    def reset(self, account_id: str | None = None) -> None:
        """After a reset: faults go (server-wide, so only on a whole reset); waiters recheck."""
        if account_id is None:
            self.faults.clear()
        self.waiters.wake_all()

    def close(self) -> None:
        """The server is shutting down: end streams, long polls and injected delays."""
        self.closing.close()
        self.streams.close()
