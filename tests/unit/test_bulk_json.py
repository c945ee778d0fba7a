"""A SendBulk answer's ``messages`` array, written from a template, is the very bytes of
encoding a dict per message, whatever the client references hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_puresms.domain.messages import new_ids, new_references
from mock_puresms.web import bulk_json
from mock_puresms.web.bulk_json import _quoted, entries_json

# Text, and the characters where JSON encoders differ: escaped or written as they are.
texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "é€😀", "a%sb", "%d"]),
)
client_references = st.one_of(st.none(), texts)


def plain(indexes: Sequence[int], references: list[str], client_refs: list[Any]) -> bytes:
    return orjson.dumps(
        [
            {"index": i, "reference": r, "clientReference": c}
            for i, r, c in zip(indexes, references, client_refs, strict=True)
        ]
    )


def encoded(indexes: Sequence[int], references: list[str], client_refs: list[Any]) -> bytes:
    """The fragment as it ends up in an answer."""
    answer = orjson.dumps({"messages": entries_json(indexes, references, client_refs)})
    assert answer.startswith(b'{"messages":') and answer.endswith(b"}")
    return answer[len(b'{"messages":') : -1]


@st.composite
def bulks(draw: st.DrawFn) -> tuple[Sequence[int], list[str], list[Any]]:
    count = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["v1", "connect", "odd"]))
    if kind == "v1":
        references = new_references("M", count)
    elif kind == "connect":
        references = new_ids(count)
    else:  # not plain text: the plain way
        references = draw(st.lists(st.text(max_size=4), min_size=count, max_size=count))
    indexes: Sequence[int]
    order = draw(st.sampled_from(["all accepted", "some rejected", "other"]))
    if order == "all accepted":  # a plain bulk's range, or a list
        indexes = draw(st.sampled_from([range(count), list(range(count))]))
    elif order == "some rejected":  # a 207's
        indexes = sorted(draw(st.sets(st.integers(0, 100), min_size=count, max_size=count)))
    else:  # no caller's, but the seam's contract: anything
        indexes = draw(
            st.one_of(
                st.permutations(list(range(count))),
                st.lists(st.integers(0, count), min_size=count, max_size=count),
                st.sampled_from([range(1, count + 1), range(count - 1, -1, -1)]),
            )
        )
    shape = draw(st.sampled_from(["none", "strings", "mixed"]))
    if shape == "none":
        refs: list[Any] = [None] * count
    elif shape == "strings":
        refs = draw(st.lists(texts, min_size=count, max_size=count))
    else:
        refs = draw(st.lists(client_references, min_size=count, max_size=count))
    return indexes, references, refs


def test_entries_are_the_dicts_encoded() -> None:
    seen: Counter[str] = Counter()

    # A busy shared core can make one draw slow; the draws themselves are small.
    @settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
    @given(bulks())
    @example(([0, 1], ["MA", "MB"], ['x"', None]))
    @example(([0, 1], ["MA", "MB"], ["é", "\u2028"]))
    @example(([0, 1], ["M1", "M2"], ["a\nb", "c"]))
    def check(bulk: tuple[Sequence[int], list[str], list[Any]]) -> None:
        indexes, references, refs = bulk
        assert encoded(indexes, references, refs) == plain(indexes, references, refs)
        if None not in refs:
            seen["quoted" if _quoted(refs) is not None else "encoded one by one"] += 1

    check()
    # Both ways of writing client references were taken (each is checked below too).
    assert seen["quoted"] > 0 and seen["encoded one by one"] > 0, seen


@given(st.lists(texts, min_size=1, max_size=6))
@example(["a", "b\n"])
@example(["a\n", "b"])
def test_quoted_texts_are_each_encoded_by_orjson(values: list[str]) -> None:
    quoted = _quoted(values)
    if quoted is not None:
        assert quoted == list(map(orjson.dumps, values))


def test_texts_with_nothing_to_escape_are_quoted_without_the_encoder() -> None:
    assert _quoted(["ref-1", "é€😀", "\u2028", "\x7f", "a%sb"]) is not None
    for odd in ['"', "\\", "\n", "\x00", "\x1f", "\ud800"]:
        assert _quoted(["ok", f"x{odd}y"]) is None, repr(odd)


@pytest.mark.parametrize("count", [1, 9, 10, 11, 99, 100, 101, 1_000, 9_999, 10_001, 15_000])
def test_every_size_of_the_template_is_cut_where_its_items_end(count: int) -> None:
    # Sizes in both orders: a template built for more items is cut, one for fewer grows.
    for size in (count, 15_000, count):
        references = new_references("M", size)
        refs: list[Any] = [None] * size
        refs[-1] = "last"
        indexes = list(range(size))
        assert encoded(indexes, references, refs) == plain(indexes, references, refs)


def test_a_lone_surrogate_is_refused_as_orjson_refuses_it() -> None:
    with pytest.raises(orjson.JSONEncodeError):
        plain([0], ["M1"], ["\ud800"])
    with pytest.raises(orjson.JSONEncodeError):
        encoded([0], ["M1"], ["\ud800"])


def test_a_plain_bulk_takes_the_template() -> None:
    # Guards the property above against passing only through the plain way.
    bulk_json._template, bulk_json._template_items = b"", 0
    encoded([0, 1, 2], new_references("M", 3), [None, "a", None])
    assert bulk_json._template_items == 3
