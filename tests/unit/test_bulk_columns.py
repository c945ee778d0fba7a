"""The bulk fast path (whole columns at once) agrees with message-by-message validation.

``parse_bulk`` first tries ``_plain_bulk``, which only ever says "all plainly valid"
or "look one by one". These properties hold it to that on every input: when it answers,
its columns are exactly what the per-message path builds; when it steps aside, the
per-message path rejects a message (or a field is spelled two ways, which it leaves to
that path on purpose), and ``parse_bulk`` answers what the per-message path answers.
Each property also checks that its inputs took both ways, so it cannot pass vacuously.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mock_puresms.api.sms_requests import _MESSAGE_FIELDS, _message, _plain_bulk, parse_bulk
from mock_puresms.domain.encoding import measure, measure_all
from mock_puresms.domain.sending import Outbound, OutboundSms
from mock_puresms.web.body import lowercase_keys

valid_phones = st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True)
phones = st.one_of(
    valid_phones,
    st.from_regex(r"[0-9+ ٣²a-]{0,17}", fullmatch=True),
    st.integers(),
    st.none(),
    st.lists(st.just("447700900100"), max_size=1),
)
valid_senders = st.sampled_from(["Acme", "A", "12345", "+447700900", "Shop 24"])
senders = st.one_of(valid_senders, st.sampled_from(["", "x" * 12, "12", "Ünï", "!"]), st.none())
gsm_contents = st.text(alphabet="Hello world 0123456789.,!?@£", min_size=1, max_size=200)
contents = st.one_of(
    gsm_contents,
    st.text(max_size=40),  # anything: UCS-2, extension characters, empty
    st.text(alphabet="^{}€[]", max_size=40),  # extension characters count twice
    st.sampled_from(["x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "ç" * 670, "ç" * 671]),
    st.none(),
    st.integers(),
    st.dictionaries(st.just("a"), st.just(1), max_size=1),
)
references = st.one_of(
    st.none(), st.text(max_size=3), st.sampled_from(["r" * 100, "r" * 101]), st.integers()
)
urls = st.one_of(
    st.none(),
    st.sampled_from(["https://example.test/dlr", "http://127.0.0.1:9/x", "ftp://x", "nope"]),
)
# Property names in the canonical spelling and in others, plus one the API ignores.
names = {
    "to": st.sampled_from(["to", "To", "TO"]),
    "from": st.sampled_from(["from", "From"]),
    "content": st.sampled_from(["content", "CONTENT"]),
    "clientReference": st.sampled_from(["clientReference", "clientreference"]),
    "deliveryReceiptUrl": st.sampled_from(["deliveryReceiptUrl", "DeliveryReceiptURL"]),
}
values = {
    "to": phones,
    "from": senders,
    "content": contents,
    "clientReference": references,
    "deliveryReceiptUrl": urls,
}


@st.composite
def any_message(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.just([])))
    message: dict[str, Any] = {}
    for field, strategy in values.items():
        if draw(st.booleans()):
            message[draw(names[field])] = draw(strategy)
    if draw(st.booleans()):
        message["extra"] = draw(st.integers())
    return message


@st.composite
def plain_message(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"to": draw(valid_phones), "content": draw(gsm_contents)}
    if draw(st.booleans()):
        message["from"] = draw(valid_senders)
    if draw(st.booleans()):
        message["clientReference"] = draw(st.text(min_size=1, max_size=100))
    return message


@st.composite
def respelled_bulk(draw: st.DrawFn) -> list[Any]:
    """Valid messages (unless no sender is given anywhere), each field spelled one way
    across the bulk, optional fields and an ignored one here and there."""
    spelling = {field: draw(strategy) for field, strategy in names.items()}
    optional = {
        "from": valid_senders,
        "clientReference": st.text(min_size=1, max_size=100),
        "deliveryReceiptUrl": st.sampled_from(["https://example.test/dlr", "http://127.0.0.1:9/x"]),
    }
    messages: list[Any] = []
    for _ in range(draw(st.integers(1, 6))):
        message: dict[str, Any] = {
            spelling["to"]: draw(valid_phones),
            spelling["content"]: draw(st.one_of(gsm_contents, st.text(min_size=1, max_size=40))),
        }
        for field, strategy in optional.items():
            if draw(st.booleans()):
                message[spelling[field]] = draw(strategy)
        if draw(st.booleans()):
            message["extra"] = draw(st.integers())
        messages.append(message)
    return messages


@st.composite
def nearly_plain_bulk(draw: st.DrawFn) -> list[Any]:
    """Plainly valid messages, one of which may have one field set to anything."""
    messages: list[Any] = draw(st.lists(plain_message(), min_size=1, max_size=5))
    index = draw(st.integers(0, len(messages) - 1))
    change = draw(st.integers(0, 7))
    if change == 7:
        messages[index] = draw(st.one_of(st.none(), st.integers(), st.just([])))
    elif change >= 5:
        del messages[index][draw(st.sampled_from(sorted(messages[index])))]
    else:
        field = list(values)[change]
        messages[index][draw(names[field])] = draw(values[field])
    return messages


def per_message_answer(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> tuple[Outbound, list[int], list[int]]:
    """What checking one by one makes of the bulk: its items, their indexes, the
    indexes of the rejected messages."""
    items: list[OutboundSms] = []
    indexes: list[int] = []
    rejected: list[int] = []
    for index, raw in enumerate(messages):
        item = _message(lowercase_keys(raw), sender, content, url) if isinstance(raw, dict) else {}
        if isinstance(item, dict):
            rejected.append(index)
        else:
            items.append(item)
            indexes.append(index)
    return Outbound.of(items), indexes, rejected


def one_by_one(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> Outbound | None:
    """The per-message path's columns when every message is valid, else None."""
    items, _, rejected = per_message_answer(messages, sender, content, url)
    return None if rejected else items


def spelled_two_ways(messages: list[Any]) -> bool:
    """Whether the bulk names one field in two spellings ("to" in one message, "To" in
    another): the column pass leaves such a bulk to the per-message path on purpose."""
    spellings: dict[str, set[str]] = {}
    for raw in messages:
        if isinstance(raw, dict):
            for name in raw:
                if name.lower() in _MESSAGE_FIELDS:
                    spellings.setdefault(name.lower(), set()).add(name)
    return any(len(names) > 1 for names in spellings.values())


def check_fast_path(
    messages: list[Any], sender: str | None, content: str | None, url: str | None
) -> str:
    """Hold the column pass to the per-message path on one input; returns which way the
    input went ("answered" or "declined")."""
    fast = _plain_bulk(messages, sender, content, url)
    slow = one_by_one(messages, sender, content, url)
    if fast is not None:
        assert fast == slow
        outcome = "answered"
    else:
        # Stepping aside is only allowed when one-by-one checking finds a bad message,
        # or when a field is spelled two ways.
        assert slow is None or spelled_two_ways(messages), "declined a plainly valid bulk"
        items, indexes, rejected = per_message_answer(messages, sender, content, url)
        validation = parse_bulk(
            {"from": sender, "content": content, "deliveryReceiptUrl": url, "messages": messages}
        )
        assert validation.request.items == items
        assert validation.indexes == indexes
        assert [index for index, _ in validation.errors] == rejected
        assert all(errors for _, errors in validation.errors)
        outcome = "declined"
    return outcome


def test_fast_path_answers_only_what_the_slow_path_accepts() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=400)
    @given(
        st.one_of(st.lists(any_message(), min_size=1, max_size=6), respelled_bulk()),
        st.one_of(st.none(), valid_senders),
        st.one_of(st.none(), gsm_contents),
        st.one_of(st.none(), st.just("https://example.test/batch")),
    )
    def check(
        messages: list[Any], sender: str | None, content: str | None, url: str | None
    ) -> None:
        outcome = check_fast_path(messages, sender, content, url)
        event(outcome)
        seen[outcome] += 1

    check()
    assert seen["answered"] > 0 and seen["declined"] > 0, seen


def test_one_odd_field_is_judged_like_the_slow_path_judges_it() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=600)
    @given(
        nearly_plain_bulk(),
        st.one_of(st.none(), valid_senders),
        st.one_of(st.none(), gsm_contents),
        st.one_of(st.none(), st.just("https://example.test/batch")),
    )
    def check(
        messages: list[Any], sender: str | None, content: str | None, url: str | None
    ) -> None:
        outcome = check_fast_path(messages, sender, content, url)
        event(outcome)
        seen[outcome] += 1

    check()
    assert seen["answered"] > 0 and seen["declined"] > 0, seen


@settings(max_examples=200)
@given(st.lists(plain_message(), min_size=1, max_size=20), st.one_of(st.none(), valid_senders))
def test_plainly_valid_bulks_take_the_fast_path(
    messages: list[dict[str, Any]], sender: str | None
) -> None:
    fallback = sender or "Acme"
    fast = _plain_bulk(messages, fallback, None, None)
    assert fast is not None
    assert fast == one_by_one(messages, fallback, None, None)
    validation = parse_bulk({"from": fallback, "messages": messages})
    assert validation.errors == []
    assert validation.request.items == fast


@given(st.lists(st.text(max_size=400), min_size=1, max_size=8))
def test_measuring_many_bodies_measures_each(bodies: list[str]) -> None:
    assert measure_all(bodies) == [measure(body) for body in bodies]


ODD_VALUES = [
    ("to", value)
    for value in ["123456", "1234567", "+123456789012345", "1234567890123456", "+", "", None,
                  "++1234567", "12345 678", "٣٣٣٣٣٣٣", 447700900100, ["447700900100"]]
] + [
    ("from", value)
    for value in ["A", "x" * 11, "x" * 12, "12", "+123", "123456789012345", "", None, 5, {}]
] + [
    ("content", value)
    for value in ["x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "ç" * 670, "ç" * 671,
                  "", None, 7, ["Hi"], "\u00e7", "😀"]
] + [
    ("clientReference", value)
    for value in ["r", "r" * 100, "r" * 101, "", None, 12, ["r"]]
] + [
    ("deliveryReceiptUrl", value)
    for value in ["https://example.test/x", "http://h:0/x", "ftp://h/x", "", None, 1, ["x"]]
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), ODD_VALUES)
def test_each_odd_value_is_judged_like_the_slow_path(field: str, value: Any) -> None:
    messages = [
        {"to": "447700900100", "content": "Hi"},
        {"to": "447700900101", "content": "Hi", field: value},
    ]
    for fallback in (None, "Acme"):
        check_fast_path(messages, fallback, None, None)
