"""Per-message order: a delivery waits for earlier unfinished ones carrying its messages.

A delivery that carries a receipt for a message waits until every earlier delivery
carrying one for the same message (to the same URL) has finished, so a receiver never
sees a later status before an earlier one, even across retries. Replies carry no
receipt: they are only counted as unfinished.

Per URL this keeps the newest delivery per message reference (the *ordering map*) and
how many deliveries to the URL are unfinished. Usually no message has another receipt
on its way, so the map is built lazily and dropped whole once the URL drains.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, repeat
from operator import attrgetter

from mock_puresms.domain.deliveries import Delivery

_REFERENCES = attrgetter("references")

# How many references to finished deliveries a URL's ordering map may hold, beyond what
# its unfinished deliveries could account for, before they are swept out.
STALE_LIMIT = 100_000


class Ordering:
    """Which deliveries wait for which, per URL; tells who may go once one finishes."""

    def __init__(self, max_batch: int, *, stale_limit: int = STALE_LIMIT) -> None:
        self._max_batch = max_batch
        self._stale_limit = stale_limit
        # Per URL, the newest delivery per message reference, for ordering, and how
        # many deliveries to it are unfinished.
        self._latest: dict[str, dict[str, Delivery]] = {}
        self._unfinished: dict[str, int] = {}
        # Deliveries not yet in their URL's ordering map, in order: it is only built
        # once a later delivery to the URL comes while some of them are unfinished.
        self._unindexed: dict[str, list[Delivery]] = {}

    def unfinished(self, url: str) -> int:
        """How many deliveries to ``url`` are unfinished."""
        return self._unfinished.get(url, 0)

    def add_all(self, url: str, deliveries: list[Delivery], *, distinct: bool = False) -> None:
        """``add`` for one flush's deliveries to ``url``, in order.

        Usually no message among them has another receipt on its way: then nothing
        waits. When nothing to the URL is unfinished and no message comes twice
        (``distinct``), the ordering map is not even built until it is needed;
        otherwise it takes them all in one C-level update.
        """
        if distinct and not self._unfinished.get(url):
            self._unfinished[url] = len(deliveries)
            self._unindexed[url] = deliveries
            return
        references = list(chain.from_iterable(map(_REFERENCES, deliveries)))
        owners = dict(
            zip(
                references,
                chain.from_iterable(repeat(d, len(d.references)) for d in deliveries),
                strict=True,
            )
        )
        latest = self._indexed(url)
        if len(owners) < len(references) or (latest and not latest.keys().isdisjoint(owners)):
            for delivery in deliveries:
                self.add(delivery)
            return
        unfinished = self._unfinished[url] = self._unfinished.get(url, 0) + len(deliveries)
        if latest is None:
            self._latest[url] = owners
            return
        if len(latest) > self._stale_limit + 2 * unfinished * self._max_batch:
            latest = self._latest[url] = {r: d for r, d in latest.items() if not d.finished}
        latest.update(owners)

    def _indexed(self, url: str) -> dict[str, Delivery] | None:
        """The URL's ordering map (newest delivery per reference), brought up to date."""
        waiting = self._unindexed.pop(url, None)
        latest = self._latest.get(url)
        if waiting:
            if latest is None:
                latest = self._latest[url] = {}
            for delivery in waiting:
                latest.update(dict.fromkeys(delivery.references, delivery))
        return latest

    def add(self, delivery: Delivery) -> None:
        """Make ``delivery`` wait for unfinished deliveries to its URL that carry a
        receipt of one of its messages, and become the newest for its messages."""
        url = delivery.url
        latest = self._indexed(url)
        if latest is None:
            latest = self._latest[url] = {}
        self._unfinished[url] = self._unfinished.get(url, 0) + 1
        live_bound = 2 * self._unfinished[url] * self._max_batch
        if len(latest) > self._stale_limit + live_bound:
            # A URL that never drains: forget the finished ones now and then.
            latest = self._latest[url] = {r: d for r, d in latest.items() if not d.finished}
        # Only references with an earlier delivery need a look (a set operation in C);
        # taken once each, so a POST with two receipts of one message (two changes in
        # one batch window) cannot find itself as the earlier one and wait for ever.
        for reference in latest.keys() & delivery.references:
            earlier = latest[reference]
            if not earlier.finished and earlier not in delivery.blocked_by:
                delivery.blocked_by.add(earlier)
                earlier.dependents.append(delivery)
        latest.update(dict.fromkeys(delivery.references, delivery))

    @staticmethod
    def holds(delivery: Delivery) -> bool:
        """Whether ``delivery`` must wait now; if so, ``finished`` releases it later."""
        if delivery.blocked_by:
            delivery.waiting = True
            return True
        return False

    def finished(self, delivery: Delivery, *, was_unfinished: bool = True) -> Sequence[Delivery]:
        """``delivery`` has finished: the waiting deliveries that may now go, in order."""
        # ``_latest`` keeps finished deliveries (ordering skips them): forgetting them
        # one reference at a time would cost more than the POST. The URL's map is
        # dropped whole once nothing bound there is unfinished.
        url = delivery.url
        unfinished = self._unfinished.get(url, 0) - was_unfinished
        if unfinished > 0:
            self._unfinished[url] = unfinished
        else:
            self._unfinished.pop(url, None)
            self._latest.pop(url, None)
            self._unindexed.pop(url, None)
        if not delivery.dependents:
            return ()
        released: list[Delivery] = []
        for dependent in delivery.dependents:
            dependent.blocked_by.discard(delivery)
            if not dependent.blocked_by and dependent.waiting:
                dependent.waiting = False
                released.append(dependent)
        delivery.dependents.clear()
        return released

    def clear(self) -> None:
        self._latest.clear()
        self._unfinished.clear()
        self._unindexed.clear()
