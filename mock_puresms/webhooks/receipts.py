"""Delivery-receipt bodies: the seed format's five fields per receipt, as JSON arrays.

A batch window's receipts for one URL come as *runs*: messages that changed to one
status together, in order. Runs are cut into POSTs of at most ``maxBatch`` receipts,
and a POST may hold the end of one run and the start of the next. Encoding happens a
run at a time, not a POST at a time: a bulk's receipts share everything but their
reference, so one C-level join makes the whole run and each POST's entries are a slice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter

import orjson

from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus

_REFERENCE = attrgetter("reference")
_CLIENT_REFERENCE = attrgetter("client_reference")
_BATCH_REFERENCE = attrgetter("batch_reference")

# Receipts ``start:stop`` of run number ``run``.
Span = tuple[int, int, int]


def _entries(messages: Sequence[Message], references: list[str], status: DeliveryStatus) -> bytes:
    """The receipts as comma-separated JSON objects (an array without its brackets)."""
    joined = _joined_template(messages, references, status)
    if joined is not None:
        return joined.encode()
    return orjson.dumps(
        [
            {
                "reference": reference,
                "clientReference": message.client_reference,
                "batchReference": message.batch_reference,
                "deliveryStatus": status,  # an IntEnum: orjson writes the code
                "additionalMessage": None,
            }
            for message, reference in zip(messages, references, strict=True)
        ]
    )[1:-1]


def _joined_template(
    messages: Sequence[Message],
    references: list[str],
    status: DeliveryStatus,
    *,
    plain: bool = False,
) -> str | None:
    """The entries joined in C when the receipts differ only in their reference.

    That is when no message has a client reference and all share one batch reference.
    References are made by the mock, so they need no escaping. ``None`` otherwise.
    """
    if plain:
        batch = messages[0].batch_reference
    else:
        if list(map(_CLIENT_REFERENCE, messages)).count(None) != len(messages):
            return None
        batches = set(map(_BATCH_REFERENCE, messages))
        if len(batches) != 1:
            return None
        (batch,) = batches
    tail = (
        '","clientReference":null,"batchReference":' + orjson.dumps(batch).decode()
        + f',"deliveryStatus":{int(status)},"additionalMessage":null}}'
    )  # fmt: skip
    return '{"reference":"' + (tail + ',{"reference":"').join(references) + tail


class ReceiptRun:
    """One run's receipts, encoded once; any span of them as entries and references."""

    __slots__ = ("_blob", "_messages", "_status", "_stride", "references")

    def __init__(
        self, messages: Sequence[Message], status: DeliveryStatus, *, plain: bool = False
    ) -> None:
        """``plain``: the caller has seen that no message has a client reference and
        that all share one batch reference, so that need not be checked again."""
        self._messages = messages
        self._status = status
        self.references = list(map(_REFERENCE, messages))
        self._blob = b""
        self._stride = 0
        # A span is a slice when every entry has one length in bytes: a plain bulk's
        # entries differ only in references of one length, in ASCII (``isascii`` is
        # a flag check, not a scan).
        if len(set(map(len, self.references))) == 1:
            joined = _joined_template(messages, self.references, status, plain=plain)
            if joined is not None and joined.isascii():
                self._blob = joined.encode()
                self._stride = (len(self._blob) + 1) // len(messages)

    def entries(self, start: int, stop: int) -> bytes:
        """Receipts ``start:stop`` as comma-separated JSON objects."""
        if self._stride:
            return self._blob[start * self._stride : stop * self._stride - 1]
        return _entries(self._messages[start:stop], self.references[start:stop], self._status)


def spans(run_lengths: Sequence[int], size: int) -> Iterator[list[Span]]:
    """Runs of these lengths cut into POSTs of at most ``size`` receipts, in order."""
    chunk: list[Span] = []
    room = size
    for run, length in enumerate(run_lengths):
        start = 0
        while start < length:
            stop = min(length, start + room)
            chunk.append((run, start, stop))
            room -= stop - start
            start = stop
            if room == 0:
                yield chunk
                chunk, room = [], size
    if chunk:
        yield chunk
