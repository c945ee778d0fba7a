"""Receipt bodies: a run's receipts, encoded once and cut into any span, are the very
bytes of encoding each receipt as a JSON object, as the seed format has them. Plain
bulks take the joined template and slices; anything else is encoded span by span."""

from __future__ import annotations

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.webhooks.receipts import ReceiptRun, spans

batch_references = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.from_regex(r"B[0-9A-F]{16}", fullmatch=True),  # as the mock makes them
    st.just('B"\\\u2028é'),
)
client_references = st.one_of(st.none(), st.text(max_size=6))
# Mock references all have one length; a run loaded from elsewhere need not.
references = st.one_of(
    st.integers(0, 2**64 - 1).map(lambda n: f"M{n:016X}"),
    st.integers(0, 999).map(lambda n: f"M{n}"),
    st.sampled_from(["Ma", "Mé", "M€"]),  # one length in characters, not in bytes
)


def message(reference: str, client_reference: str | None, batch_reference: str | None) -> Message:
    return Message(
        reference=reference,
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


def expected(messages: list[Message], status: DeliveryStatus) -> bytes:
    return orjson.dumps(
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


@settings(max_examples=400)
@example(  # references of one length in characters but not in bytes: no slicing
    fields=[("Ma", None, None), ("Mé", None, None), ("Ma", None, None)],
    status=DeliveryStatus.DELIVERED,
    plain=True,
    mock_made=False,
    size=1,
)
@given(
    st.lists(st.tuples(references, client_references, batch_references), min_size=1, max_size=12),
    st.sampled_from(DeliveryStatus),
    st.booleans(),
    st.booleans(),
    st.integers(1, 5),
)
def test_every_span_of_a_run_is_the_json_of_its_receipts(
    fields: list[tuple[str, str | None, str | None]],
    status: DeliveryStatus,
    plain: bool,
    mock_made: bool,
    size: int,
) -> None:
    if mock_made:  # references of one length, as the mock makes them
        fields = [(f"M{i:016X}", client, batch) for i, (_, client, batch) in enumerate(fields)]
    if plain:  # the template's case: no client reference, one batch reference
        fields = [(reference, None, fields[0][2]) for reference, _, _ in fields]
    messages = [message(*f) for f in fields]
    run = ReceiptRun(messages, status, plain=plain)

    for chunk in spans([len(messages)], size):
        ((_, start, stop),) = chunk
        body = b"[" + run.entries(start, stop) + b"]"
        assert body == expected(messages[start:stop], status)
        assert run.references[start:stop] == [m.reference for m in messages[start:stop]]


def test_spans_pack_runs_into_posts_of_at_most_size_in_order() -> None:
    assert list(spans([3, 0, 4, 1], 3)) == [
        [(0, 0, 3)],
        [(2, 0, 3)],
        [(2, 3, 4), (3, 0, 1)],
    ]
