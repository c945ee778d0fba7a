"""Every delivery the mock knows, finished or not: what ``GET /_mock/webhooks`` lists.

Kept in creation order (a dict keeps insertion order), listed newest first; finished
deliveries stay until retention prunes them or a reset forgets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mock_puresms.domain.deliveries import Delivery


class DeliveryRegistry:
    """The deliveries by id, oldest first."""

    def __init__(self) -> None:
        self._deliveries: dict[str, Delivery] = {}

    def __len__(self) -> int:
        return len(self._deliveries)

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def add(self, delivery: Delivery) -> None:
        self._deliveries[delivery.id] = delivery

    def add_all(self, deliveries: Iterable[Delivery]) -> None:
        self._deliveries.update((delivery.id, delivery) for delivery in deliveries)

    def listing(
        self, url: str | None = None, state: str | None = None, account_id: str | None = None
    ) -> Iterator[Delivery]:
        """Every delivery, newest first, filtered."""
        for delivery in reversed(self._deliveries.values()):
            if (
                (url is None or delivery.url == url)
                and (state is None or delivery.state == state)
                and (account_id is None or delivery.account_id == account_id)
            ):
                yield delivery

    def prune(self, finished_before: int | None, max_deliveries: int | None = None) -> list[str]:
        """Retention: forget finished deliveries created before ``finished_before``, and
        the oldest finished ones while more than ``max_deliveries`` are kept. Pending
        deliveries stay (until ``maxAge`` they are owed): they never count as excess."""
        excess = len(self._deliveries) - max_deliveries if max_deliveries is not None else 0
        if finished_before is None and excess <= 0:
            return []
        gone: list[str] = []
        for delivery in self._deliveries.values():  # oldest first
            if not delivery.finished:
                continue
            if excess > 0 or (
                finished_before is not None and delivery.created_at < finished_before
            ):
                gone.append(delivery.id)
                excess -= 1
            elif finished_before is None:
                break
        for delivery_id in gone:
            del self._deliveries[delivery_id]
        return gone

    def of_account(self, account_id: str) -> list[Delivery]:
        """The account's deliveries, oldest first."""
        return [d for d in self._deliveries.values() if d.account_id == account_id]

    def remove(self, delivery: Delivery) -> None:
        del self._deliveries[delivery.id]

    def clear(self) -> None:
        self._deliveries.clear()
