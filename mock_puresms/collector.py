"""How the server process uses Python's cyclic garbage collector.

A mock holds hundreds of thousands of long-lived message objects, and they form no
reference cycles. The collector would still scan each of them, more than once, looking
for cycles that are not there: a 15,000-message send paid 15-25 ms of scanning, a
quarter of its time (``benchmarks/bench_api.py``). So, in ``mock-puresms serve`` only:

- collections run less often (higher thresholds);
- once every thousand new messages (one large send, or many small ones), everything
  alive is frozen out of the collector's sight (``gc.freeze``): those messages are
  never scanned, and they are still freed by reference counting when deleted (a reset
  frees them at once).

A freeze also hides the cyclic garbage alive at that moment, such as a closing
connection's transport: about ten objects a freeze (``tests/api/test_collector.py``).
A reset that follows many freezes lets the collector reclaim them. Other resets leave
the collector alone: a full collection costs tens of milliseconds, and test suites
reset between tests.

In-process servers (the pytest plugin, tests) leave the collector alone: it belongs to
the host process there.
"""

from __future__ import annotations

import gc

from mock_puresms.domain.events import Event, MessagesCreated, MessagesLoaded, StateReset

# New messages between freezes: fewer objects than the collector's youngest generation
# holds before it runs (the first threshold below), so it rarely gets to scan them.
FREEZE_EVERY = 1_000
# Freezes before a reset reclaims what they held back.
RECLAIM_AFTER = 100

_managed = False
_unfrozen = 0
_freezes = 0


def manage_for_server() -> None:
    """Take over the collector's policy for a process that serves the mock."""
    global _managed, _unfrozen, _freezes
    gc.collect()
    gc.freeze()  # what exists at start-up lives as long as the process
    gc.set_threshold(50_000, 50, 100)
    _managed = True
    _unfrozen = _freezes = 0


def on_event(event: Event) -> None:
    """The policy as a subscriber of the core's events (``Mock.subscribe``), which
    ``mock-puresms serve`` installs: new messages are counted, resets may reclaim."""
    if isinstance(event, MessagesCreated):
        after_send(len(event.messages))
    elif isinstance(event, MessagesLoaded):
        # A restart's background load brings up to millions of messages in: unfrozen,
        # the collector's older generations would scan them all, holding the loop.
        after_send(event.count)
    elif isinstance(event, StateReset):
        after_reset()


def after_send(count: int) -> None:
    """``count`` new messages were stored: freeze them out of later scans, a thousand
    at a time."""
    global _unfrozen, _freezes
    if not _managed:
        return
    _unfrozen += count
    if _unfrozen >= FREEZE_EVERY:
        gc.freeze()
        _unfrozen = 0
        _freezes += 1


def after_reset() -> None:
    """State was dropped: after many freezes, reclaim what they held back."""
    global _freezes
    if _managed and _freezes >= RECLAIM_AFTER:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _freezes = 0
