"""A send's stored row: one message is encoded by its own shorter path, to the same bytes
the column-at-a-time path writes for a bulk."""

from __future__ import annotations

import pytest

from mock_puresms.domain.messages import HistoryEntry, Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.sqlite.rows import columns_send_body, single_send_body


def message(**fields: object) -> Message:
    values: dict[str, object] = {
        "reference": "M1", "account_id": "acc", "to": "447700900100", "sender": "Acme",
        "content": 'He said "hi" ✓', "encoding": "UCS2", "segments": 1, "is_test": True,
        "status": DeliveryStatus.ACCEPTED, "created_at": 5, "client_reference": "c\\1",
        "batch_reference": None, "receipt_url": "https://example.test/r", "send_at": 9,
        "history": (HistoryEntry(DeliveryStatus.ACCEPTED, 5),),
        "pending": ((DeliveryStatus.ENROUTE, 1000), (DeliveryStatus.DELIVERED, 2000)),
        "next_due": 1005, "reply_plan": (5000, "STOP"),
        **fields,
    }  # fmt: skip
    return Message(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "one",
    [
        message(),
        message(pending=(), next_due=None, reply_plan=None, client_reference=None),
        message(status=DeliveryStatus.SKIPPED, history=(HistoryEntry(DeliveryStatus.SKIPPED, 5),)),
    ],
)
def test_one_message_is_stored_as_the_bulk_path_would_store_it(one: Message) -> None:
    assert single_send_body(one) == columns_send_body([one])
