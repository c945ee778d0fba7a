"""The current API's bulk fast path (whole columns at once) agrees with message-by-message
validation, as ``test_bulk_columns.py`` holds v1's: when ``_plain_bulk`` answers, its
columns are what the per-message path builds; when it steps aside, the per-message path
rejects a message, or a field is spelled two ways, or a ``unicode`` mode other than
Allow asks for the per-message path. Each property checks that both ways were taken."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mock_puresms.api_connect.requests import _FIELDS, _message, _plain_bulk, parse_bulk
from mock_puresms.domain.sending import Outbound, OutboundSms

valid_recipients = st.from_regex(r"\+[0-9]{7,15}", fullmatch=True)
recipients = st.one_of(
    valid_recipients,
    st.from_regex(r"[0-9+ ٣²a\n-]{0,17}", fullmatch=True),
    st.sampled_from(["447700900123", "++447700900123", "+44770+0900123", "+123456", ""]),
    st.sampled_from(["+1234567890123456", "+447700\n900123"]),
    st.integers(),
    st.none(),
    st.lists(st.just("+447700900100"), max_size=1),
)
valid_senders = st.sampled_from(["Acme", "A", "12345", "+447700900", "Shop 24"])
senders = st.one_of(valid_senders, st.sampled_from(["", "x" * 12, "12", "Ünï", "!"]), st.none())
gsm_contents = st.text(alphabet="Hello world 0123456789.,!?@£", min_size=1, max_size=200)
contents = st.one_of(
    gsm_contents,
    st.text(max_size=40),
    st.sampled_from(["x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "ç" * 670, "ç" * 671]),
    st.none(),
    st.integers(),
)
references = st.one_of(st.none(), st.text(max_size=3), st.sampled_from(["r" * 100, "r" * 101]))
modes = st.one_of(st.none(), st.sampled_from(["allow", "Allow", "deny", "strip", "x", 0, 1, 5]))
names = {
    "sender": st.sampled_from(["sender", "Sender"]),
    "recipient": st.sampled_from(["recipient", "RECIPIENT"]),
    "content": st.sampled_from(["content", "Content"]),
    "clientReference": st.sampled_from(["clientReference", "clientreference"]),
    "clientTag": st.sampled_from(["clientTag", "ClientTag"]),
    "unicode": st.sampled_from(["unicode", "Unicode"]),
}
values = {
    "sender": senders,
    "recipient": recipients,
    "content": contents,
    "clientReference": references,
    "clientTag": references,
    "unicode": modes,
}


@st.composite
def plain_message(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {
        "sender": draw(valid_senders),
        "recipient": draw(valid_recipients),
        "content": draw(gsm_contents),
    }
    for optional in ("clientReference", "clientTag"):
        if draw(st.booleans()):
            message[optional] = draw(st.text(min_size=1, max_size=100))
    return message


@st.composite
def nearly_plain_bulk(draw: st.DrawFn) -> list[Any]:
    """Plainly valid messages, one of which may have one field set to anything."""
    messages: list[Any] = draw(st.lists(plain_message(), min_size=1, max_size=5))
    index = draw(st.integers(0, len(messages) - 1))
    change = draw(st.integers(0, len(values) + 1))
    if change == len(values) + 1:
        messages[index] = draw(st.one_of(st.none(), st.integers(), st.just([])))
    elif change == len(values):
        del messages[index][draw(st.sampled_from(sorted(messages[index])))]
    else:
        field = list(values)[change]
        messages[index][draw(names[field])] = draw(values[field])
    return messages


def per_message(messages: list[Any]) -> tuple[Outbound, list[int]]:
    """What checking one by one makes of the bulk: its items and the rejected indexes."""
    items: list[OutboundSms] = []
    rejected: list[int] = []
    for index, raw in enumerate(messages):
        item = _message({k.lower(): v for k, v in raw.items()}) if isinstance(raw, dict) else {}
        if isinstance(item, dict):
            rejected.append(index)
        else:
            items.append(item)
    return Outbound.of(items), rejected


def left_to_the_slow_path(messages: list[Any]) -> bool:
    """A field spelled two ways, or a ``unicode`` mode other than Allow: the column pass
    leaves these to the per-message path on purpose."""
    spellings: dict[str, set[str]] = {}
    for raw in messages:
        for name, value in raw.items():
            if name.lower() in _FIELDS:
                spellings.setdefault(name.lower(), set()).add(name)
            if name.lower() == "unicode" and not (
                value is None or (isinstance(value, str) and value.lower() == "allow")
            ):
                return True
    return any(len(names) > 1 for names in spellings.values())


def check_fast_path(messages: list[Any]) -> str:
    fast = _plain_bulk(messages)
    items, rejected = per_message(messages)
    if fast is not None:
        assert not rejected and fast == items
        return "answered"
    assert rejected or left_to_the_slow_path(messages), "declined a plainly valid bulk"
    bulk = parse_bulk({"messages": messages})
    assert bulk.items == items
    assert [index for index, _ in bulk.errors] == rejected
    return "declined"


ODD = {"sender": "Acme", "recipient": "+447700900123", "content": "Hi"}


def test_one_odd_field_is_judged_like_the_slow_path_judges_it() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
    @given(nearly_plain_bulk())
    @example([ODD | {"recipient": "447700900123"}])  # valid but for its missing '+'
    @example([ODD, ODD | {"recipient": "447700900123"}])
    @example([ODD | {"recipient": "+447700\n900123"}])
    @example([ODD | {"recipient": "+4477009001\n4477009001"}])
    @example([ODD, ODD | {"recipient": "44770+0900123"}])
    @example([ODD, ODD | {"recipient": "++447700900"}])
    @example([ODD | {"recipient": "+1234567890123456"}])
    @example([ODD | {"recipient": "+123456"}])
    def check(messages: list[Any]) -> None:
        outcome = check_fast_path(messages)
        event(outcome)
        seen[outcome] += 1

    check()
    assert seen["answered"] > 0 and seen["declined"] > 0, seen


@settings(max_examples=200)
@given(st.lists(plain_message(), min_size=1, max_size=20))
def test_plainly_valid_bulks_take_the_fast_path(messages: list[dict[str, Any]]) -> None:
    fast = _plain_bulk(messages)
    assert fast is not None
    assert fast == per_message(messages)[0]
    assert parse_bulk({"messages": messages}).items == fast
