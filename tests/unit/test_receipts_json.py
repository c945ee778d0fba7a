"""Receipt bodies: the joined template for a plain bulk gives the very bytes of encoding
each receipt as a JSON object, as the seed format has them."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.webhooks.receipts import receipts_json

batch_references = st.one_of(st.none(), st.text(max_size=12), st.just('B"\\\u2028é'))
client_references = st.one_of(st.none(), st.text(max_size=6))


def message(index: int, client_reference: str | None, batch_reference: str | None) -> Message:
    return Message(
        reference=f"M{index:016X}",
        account_id="acc",
        to="447700900100",
        sender="Acme",
        content="Hi",
        encoding="GSM7",
        segments=1,
        is_test=False,
        status=DeliveryStatus.ENROUTE,
        created_at=0,
        client_reference=client_reference,
        batch_reference=batch_reference,
    )


@given(
    st.lists(st.tuples(client_references, batch_references), min_size=1, max_size=8),
    st.sampled_from(DeliveryStatus),
    st.booleans(),
)
def test_receipt_bodies_are_the_json_of_each_receipt(
    fields: list[tuple[str | None, str | None]], status: DeliveryStatus, plain: bool
) -> None:
    if plain:  # the template's case: no client reference, one batch reference
        fields = [(None, fields[0][1])] * len(fields)
    messages = [message(i, client, batch) for i, (client, batch) in enumerate(fields)]

    body = receipts_json(messages, status)

    assert body == orjson.dumps(
        [
            {
                "reference": m.reference,
                "clientReference": m.client_reference,
                "batchReference": m.batch_reference,
                "deliveryStatus": int(status),
                "additionalMessage": None,
            }
            for m in messages
        ]
    )
