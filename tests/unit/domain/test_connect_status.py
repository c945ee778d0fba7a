"""The current API's status view (API.md 9.4): every v1 status maps as the table says."""

from __future__ import annotations

import pytest

from mock_puresms.domain.connect_status import ConnectStatus, connect_status, error_code
from mock_puresms.domain.statuses import DeliveryStatus as S

TABLE = [
    (S.SCHEDULED, False, "Queued", 0, None),
    (S.ACCEPTED, False, "Queued", 0, None),
    (S.ENROUTE, False, "Dispatched", 1, None),
    (S.UNDELIVERABLE, False, "Failed", 2, "Undeliverable"),
    (S.UNKNOWN, False, "Failed", 2, "Unknown"),
    (S.SKIPPED, False, "Failed", 2, "OptedOut"),
    (S.EXPIRED, False, "Expired", 3, "Expired"),
    (S.REJECTED, False, "Rejected", 4, "Rejected"),
    (S.DELETED, True, "Cancelled", 5, None),
    (S.DELETED, False, "Deleted", 6, None),
    (S.DELIVERED, False, "Delivered", 7, None),
]


@pytest.mark.parametrize(("status", "cancelled", "name", "number", "code"), TABLE)
def test_each_v1_status_has_its_connect_name_number_and_error_code(
    status: S, cancelled: bool, name: str, number: int, code: str | None
) -> None:
    view = connect_status(status, cancelled)
    assert (view.label, int(view)) == (name, number)
    assert error_code(status) == code


def test_the_table_covers_every_status() -> None:
    assert {row[0] for row in TABLE} == set(S)
    assert {connect_status(row[0], row[1]) for row in TABLE} == set(ConnectStatus)


def test_only_a_deleted_message_can_show_as_cancelled() -> None:
    assert connect_status(S.DELIVERED, cancelled=True) is ConnectStatus.DELIVERED
