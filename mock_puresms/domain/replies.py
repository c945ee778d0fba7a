"""Inbound SMS (replies) and the opt-out words."""

from __future__ import annotations

from dataclasses import dataclass

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})


def opt_change(content: str) -> bool | None:
    """``True`` when the reply opts the phone out, ``False`` when back in, else ``None``."""
    word = content.strip().upper()
    if word in OPT_OUT_WORDS:
        return True
    if word in OPT_IN_WORDS:
        return False
    return None


@dataclass(slots=True, frozen=True)
class Reply:
    """An SMS the phone ``from_`` sent to the sender ``to``; ``received_at`` is mock time."""

    reference: str
    account_id: str
    from_: str
    to: str
    content: str
    received_at: int
    in_reply_to: str | None = None
    client_reference: str | None = None
    batch_reference: str | None = None
    # Its 64-bit id (digits), what the current API's inbound events call ``MessageId``;
    # ``None`` only for replies stored before replies had one.
    inbound_id: str | None = None
