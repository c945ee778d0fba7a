"""Receipts owed within one ``batchWindow``, grouped by URL into POSTs of at most ``maxBatch``.

The first receipt owed opens a window; when it closes (a flush), the window's receipts
are grouped by (account, URL), in the order they fell ready, and each URL's receipts
are cut into deliveries. Receipts come as *runs*, the messages of one event (they
changed to one status together); encoding is a run at a time (``receipts.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.messages import Message, Routing, new_references
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.webhooks.receipts import ReceiptRun, spans

AccountLookup = Callable[[str], Awaitable[Account | None]]


@dataclass(slots=True)
class OwedReceipts:
    """The receipts of messages that changed to one status together (one event)."""

    messages: Sequence[Message]
    status: DeliveryStatus
    # Each change's index in its message's history: what a durable store owes.
    positions: list[int] | None
    routing: Routing | None = None  # when the event said what they all share


_REFERENCE = attrgetter("reference")
_ROUTE = attrgetter("account_id", "receipt_url", "client_reference", "batch_reference")
_HISTORY = attrgetter("history")


class ReceiptBatcher:
    """The receipts owed in the open batch window, and how a flush groups them."""

    def __init__(self, batch_window_ms: int, max_batch: int, *, durable: bool = False) -> None:
        self._window = batch_window_ms
        self._max_batch = max_batch
        # Only a durable store needs told which owed receipts a flush consumed.
        self._durable = durable
        self.pending: list[OwedReceipts] = []
        # When the open window closes; ``None`` while no receipt is owed.
        self.flush_due: int | None = None

    def owe(
        self,
        messages: Sequence[Message],
        status: DeliveryStatus,
        at: int,
        routing: Routing | None = None,
    ) -> int | None:
        """Owe the receipts of one event; returns when to flush if this opened a window."""
        positions = None
        if self._durable:
            positions = [length - 1 for length in map(len, map(_HISTORY, messages))]
        self.pending.append(OwedReceipts(messages, status, positions, routing))
        if self.flush_due is None:
            self.flush_due = at + self._window
            return self.flush_due
        return None

    def owe_again(self, receipts: Sequence[tuple[Message, int]], now: int) -> int | None:
        """After a restart: receipts still owed (message, history index); returns when to
        flush if that needs scheduling (now: their window closed before the restart)."""
        for message, position in receipts:
            status = message.history[position].status
            self.pending.append(OwedReceipts((message,), status, [position]))
        if self.pending and self.flush_due is None:
            self.flush_due = now
            return now
        return None

    def take(self) -> list[OwedReceipts]:
        """Close the window: every receipt owed in it, in order."""
        owed, self.pending = self.pending, []
        self.flush_due = None
        return owed

    async def by_url(
        self, owed: Sequence[OwedReceipts], accounts: AccountLookup
    ) -> dict[tuple[str, str], list[ReceiptRun]]:
        """Per (account, URL), the runs of receipts bound there, in order.

        A message without its own receipt URL goes to its account's default; receipts
        with neither are dropped.
        """
        defaults: dict[str, str | None] = {}

        async def default_url(account_id: str) -> str | None:
            if account_id not in defaults:
                account = await accounts(account_id)
                defaults[account_id] = account.webhooks.delivery_receipt_url if account else None
            return defaults[account_id]

        by_url: dict[tuple[str, str], list[ReceiptRun]] = {}
        for receipts in owed:
            messages, status = receipts.messages, receipts.status
            # What they share, if the event did not say: one C-level pass, not one per field.
            routes = {receipts.routing} if receipts.routing else set(map(_ROUTE, messages))
            if len(routes) == 1:
                ((account_id, receipt_url, client_reference, _),) = routes
                url = receipt_url or await default_url(account_id)
                if url is not None:
                    plain = client_reference is None
                    run = ReceiptRun(messages, status, plain=plain)
                    by_url.setdefault((account_id, url), []).append(run)
                continue
            split: dict[tuple[str, str], list[Message]] = {}
            for message in messages:
                url = message.receipt_url or await default_url(message.account_id)
                if url is not None:
                    split.setdefault((message.account_id, url), []).append(message)
            for key, some in split.items():
                by_url.setdefault(key, []).append(ReceiptRun(some, status))
        return by_url

    def deliveries(
        self, account_id: str, url: str, runs: list[ReceiptRun], now: int
    ) -> list[Delivery]:
        """One URL's runs of receipts as deliveries of at most ``maxBatch`` each."""
        chunks = list(spans([len(run.references) for run in runs], self._max_batch))
        deliveries: list[Delivery] = []
        for delivery_id, chunk in zip(new_references("WH", len(chunks)), chunks, strict=True):
            if len(chunk) == 1:
                ((run, start, stop),) = chunk
                body = b"[" + runs[run].entries(start, stop) + b"]"
                references = tuple(runs[run].references[start:stop])
            else:
                body = b"[" + b",".join(runs[r].entries(a, b) for r, a, b in chunk) + b"]"
                references = tuple(
                    chain.from_iterable(runs[r].references[a:b] for r, a, b in chunk)
                )
            deliveries.append(
                Delivery(
                    id=delivery_id,
                    account_id=account_id,
                    url=url,
                    kind="receipts",
                    body=body,
                    created_at=now,
                    references=references,
                    next_attempt_at=now,
                )
            )
        return deliveries

    def consumed(self, owed: Sequence[OwedReceipts]) -> list[tuple[str, int]]:
        """What a durable store no longer owes once ``owed`` are deliveries:
        (reference, history index) pairs; none for the memory store."""
        flushed: list[tuple[str, int]] = []
        if self._durable:
            for receipts in owed:
                assert receipts.positions is not None
                flushed.extend(
                    zip(map(_REFERENCE, receipts.messages), receipts.positions, strict=True)
                )
        return flushed

    def drop_account(self, account_id: str) -> None:
        """Forget the owed receipts of one account's messages."""
        kept: list[OwedReceipts] = []
        for receipts in self.pending:
            indexes = [i for i, m in enumerate(receipts.messages) if m.account_id != account_id]
            if len(indexes) == len(receipts.messages):
                kept.append(receipts)
            elif indexes:
                positions = receipts.positions
                kept.append(
                    OwedReceipts(
                        [receipts.messages[i] for i in indexes],
                        receipts.status,
                        [positions[i] for i in indexes] if positions is not None else None,
                        receipts.routing,
                    )
                )
        self.pending = kept

    def clear(self) -> None:
        """Forget every owed receipt and the open window."""
        self.pending.clear()
        self.flush_due = None
