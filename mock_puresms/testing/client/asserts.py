"""What the client's assertion helpers check, and how a failure is explained.

Plain functions over the typed results (``Message``): they never call the mock, so the
client fetches what a failure message needs only once a check has failed. Every
message starts with ``mock-puresms:`` and lists the near misses, so a failing test
says what the mock did instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import datetime

from mock_puresms.control.models import Message
from mock_puresms.domain.statuses import DeliveryStatus

NEAR_MISSES = 10
"""How many messages a failure lists at most."""


def no_such_message(reference: str, messages: list[Message]) -> str:
    """The failure of a check on a message the mock does not have."""
    return f"mock-puresms: no message {reference}; {_near_messages(reference, messages)}"


def wrong_status(message: Message, wanted: DeliveryStatus, now: datetime) -> str:
    """The failure of a check that ``message`` is in ``wanted``; ``now`` is the mock's clock."""
    history = " -> ".join(f"{c.status.label} ({_clock(c.at)})" for c in message.history)
    return (
        f"mock-puresms: message {message.reference} is {message.status.label}, not "
        f"{wanted.label}; its history: {history}; the mock's clock is at {_clock(now)}"
    )


def sent_matching(
    messages: Iterable[Message],
    *,
    to: str | None = None,
    content: str | None = None,
    from_: str | None = None,
) -> list[Message]:
    """The messages sent with these values (``to`` with or without its ``+``)."""
    wanted_to = to.lstrip("+") if to is not None else None
    return [
        m
        for m in messages
        if (wanted_to is None or m.to == wanted_to)
        and (content is None or m.content == content)
        and (from_ is None or m.from_ == from_)
    ]


def not_sent(
    everything: list[Message],
    found: int,
    *,
    to: str | None = None,
    content: str | None = None,
    from_: str | None = None,
    count: int | None = None,
) -> str:
    """The failure of a check that ``count`` messages (else any) were sent with these
    values, when ``found`` were."""
    criteria = ", ".join(
        f"{name}={value!r}"
        for name, value in (("to", to), ("content", content), ("from_", from_))
        if value is not None
    )
    expected = f"{count} message(s)" if count is not None else "a message"
    return (
        f"mock-puresms: expected {expected} with {criteria or 'any values'}, found "
        f"{found}; {_list_messages(everything)}"
    )


def _clock(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _summary(message: Message) -> str:
    content = message.content if len(message.content) <= 30 else message.content[:27] + "..."
    return f"{message.reference} to {message.to} ({message.status.label}) {content!r}"


def _list_messages(messages: Iterable[Message]) -> str:
    listed = list(messages)
    if not listed:
        return "the mock has no message at all"
    shown = "; ".join(_summary(m) for m in listed[:NEAR_MISSES])
    more = f" and {len(listed) - NEAR_MISSES} more" if len(listed) > NEAR_MISSES else ""
    return f"the mock has {len(listed)} message(s): {shown}{more}"


def _near_messages(reference: str, messages: list[Message]) -> str:
    by_reference = {m.reference: m for m in messages}
    close = difflib.get_close_matches(reference, by_reference, n=3, cutoff=0.6)
    if close:
        return "did you mean " + ", ".join(_summary(by_reference[r]) for r in close) + "?"
    return _list_messages(messages)
