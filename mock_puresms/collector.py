"""How the server process uses Python's cyclic garbage collector.

A mock holds hundreds of thousands of long-lived message objects, and they form no
reference cycles. The collector would still scan each of them, more than once, looking
for cycles that are not there: a 15,000-message send paid 15-25 ms of scanning, a
quarter of its time (``benchmarks/bench_api.py``). So, in ``mock-puresms serve`` only:

- collections run less often (higher thresholds);
- after a large send, everything alive is frozen out of the collector's sight
  (``gc.freeze``): the new messages are never scanned, and they are still freed by
  reference counting when deleted (a reset frees them at once).

A freeze also hides the cyclic garbage alive at that moment, such as a closing
connection's transport: about ten objects per large send (``tests/api/test_collector.py``).
A reset that follows many large sends lets the collector reclaim them. Other resets
leave the collector alone: a full collection costs tens of milliseconds, and test
suites reset between tests.

In-process servers (the pytest plugin, tests) leave the collector alone: it belongs to
the host process there.
"""

from __future__ import annotations

import gc

# A send this large makes more objects than the collector's youngest generation holds
# before it runs (the first threshold below).
LARGE_SEND = 1_000
# Large sends frozen before a reset reclaims what their freezes held back.
RECLAIM_AFTER = 100

_managed = False
_frozen_sends = 0


def manage_for_server() -> None:
    """Take over the collector's policy for a process that serves the mock."""
    global _managed, _frozen_sends
    gc.collect()
    gc.freeze()  # what exists at start-up lives as long as the process
    gc.set_threshold(50_000, 50, 100)
    _managed = True
    _frozen_sends = 0


def after_send(count: int) -> None:
    """A send of ``count`` messages was stored: freeze them out of later scans."""
    global _frozen_sends
    if _managed and count >= LARGE_SEND:
        gc.freeze()
        _frozen_sends += 1


def after_reset() -> None:
    """State was dropped: after many large sends, reclaim what their freezes held."""
    global _frozen_sends
    if _managed and _frozen_sends >= RECLAIM_AFTER:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _frozen_sends = 0
