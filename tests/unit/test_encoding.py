"""GSM-7 / UCS-2 encoding and segment counting, as API.md section 3 states them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_puresms.domain import encoding
from mock_puresms.domain.encoding import MAX_SEGMENTS, Encoding, SegmentInfo, measure

# The tables are written out here rather than imported, so a slip in the module's copy
# shows up as a failure instead of being checked against itself.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
GSM_CHARS = BASIC + EXTENSION

gsm_text = st.text(alphabet=GSM_CHARS)
# Mostly GSM characters with some of everything else, so both encodings come up often.
# st.characters() includes lone surrogates, which JSON can carry too: they are one unit.
mixed_text = st.text(
    alphabet=st.one_of(st.sampled_from(GSM_CHARS), st.sampled_from("çÀ`\t😀€{"), st.characters())
)


def reference_units(content: str) -> int:
    if all(c in GSM_CHARS for c in content):
        return sum(2 if c in EXTENSION else 1 for c in content)
    return len(content.encode("utf-16-le", "surrogatepass")) // 2


def test_basic_table_has_the_127_characters_of_gsm_03_38() -> None:
    assert len(set(BASIC)) == len(BASIC) == 127
    assert set(encoding.GSM7_BASIC) == set(BASIC)
    assert set(encoding.GSM7_EXTENSION) == set(EXTENSION)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (153, 1), (160, 1), (161, 2), (306, 2), (307, 3)]
)
def test_gsm7_segments_are_160_then_153_each(length: int, segments: int) -> None:
    assert measure("a" * length) == SegmentInfo(Encoding.GSM7, length, segments)


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments_are_70_then_67_each(length: int, segments: int) -> None:
    assert measure("ж" * length) == SegmentInfo(Encoding.UCS2, length, segments)


def test_empty_content_is_one_gsm7_segment_of_zero_units() -> None:
    assert measure("") == SegmentInfo(Encoding.GSM7, 0, 1)


def test_emoji_counts_as_two_utf16_units() -> None:
    assert measure("😀") == SegmentInfo(Encoding.UCS2, 2, 1)
    assert measure("Hi 😀") == SegmentInfo(Encoding.UCS2, 5, 1)
    assert measure("😀" * 35).segments == 1
    assert measure("😀" * 36) == SegmentInfo(Encoding.UCS2, 72, 2)


@pytest.mark.parametrize("char", list(EXTENSION))
def test_extension_characters_count_double(char: str) -> None:
    assert measure(char) == SegmentInfo(Encoding.GSM7, 2, 1)
    assert measure("ab" + char + "c") == SegmentInfo(Encoding.GSM7, 5, 1)


def test_euro_brace_and_form_feed_keep_gsm7() -> None:
    assert measure("Price: 10€ {net}\f") == SegmentInfo(Encoding.GSM7, 21, 1)


def test_80_braces_fill_one_segment_and_81_need_two() -> None:
    assert measure("{" * 80) == SegmentInfo(Encoding.GSM7, 160, 1)
    assert measure("{" * 81) == SegmentInfo(Encoding.GSM7, 162, 2)


def test_lowercase_c_cedilla_forces_ucs2() -> None:
    assert measure("Garçon") == SegmentInfo(Encoding.UCS2, 6, 1)


def test_uppercase_c_cedilla_stays_gsm7() -> None:
    assert measure("ÇA VA") == SegmentInfo(Encoding.GSM7, 5, 1)


@pytest.mark.parametrize(
    "content", ["café", "ΔΦΓΛΩΠΨΣΘΞ", "Øre £5 ¥ §1 ¿Qué? ¡Olé!", "line\nbreak\r", "@_$"]
)
def test_non_ascii_gsm_characters_stay_gsm7(content: str) -> None:
    assert measure(content) == SegmentInfo(Encoding.GSM7, len(content), 1)


@pytest.mark.parametrize("content", ["`", "tab\there", "\x00", "\x7f", "á", "Ä\u0308", "ß…"])
def test_characters_outside_the_tables_force_ucs2(content: str) -> None:
    assert measure(content).encoding is Encoding.UCS2


def test_lone_surrogate_counts_as_one_unit() -> None:
    # Python's json module lets "\ud83d" through; measuring it must not raise.
    assert measure("a\ud83d") == SegmentInfo(Encoding.UCS2, 2, 1)


def test_content_longer_than_ten_segments_is_still_measured() -> None:
    assert measure("a" * 153 * MAX_SEGMENTS).segments == MAX_SEGMENTS
    assert measure("a" * 2000) == SegmentInfo(Encoding.GSM7, 2000, 14)
    assert measure("{" * 1000) == SegmentInfo(Encoding.GSM7, 2000, 14)
    assert measure("ж" * 1000) == SegmentInfo(Encoding.UCS2, 1000, 15)


def test_encoding_is_named_as_on_the_wire() -> None:
    assert measure("hi").encoding == "GSM7"
    assert measure("ж").encoding == "UCS2"


def test_cache_stays_bounded() -> None:
    for i in range(encoding._CACHE_SIZE + 10):
        measure(f"message {i}")
    measure("x" * 5000)
    assert len(encoding._cache) <= encoding._CACHE_SIZE
    assert "x" * 5000 not in encoding._cache


@given(gsm_text, gsm_text)
def test_segments_are_monotonic_in_appended_gsm_text(head: str, tail: str) -> None:
    before, after = measure(head), measure(head + tail)
    assert after.units == before.units + measure(tail).units
    assert after.segments >= before.segments


@given(mixed_text)
def test_encoding_is_gsm7_iff_every_character_is_in_the_tables(content: str) -> None:
    expected = Encoding.GSM7 if all(c in GSM_CHARS for c in content) else Encoding.UCS2
    assert measure(content).encoding is expected


@given(mixed_text, st.sampled_from("ç😀`ж\t"))
def test_ucs2_units_are_utf16_code_units(content: str, foreign: str) -> None:
    content += foreign
    info = measure(content)
    assert info.encoding is Encoding.UCS2
    assert info.units == len(content.encode("utf-16-le", "surrogatepass")) // 2


@given(mixed_text)
def test_units_and_segments_follow_the_contract(content: str) -> None:
    info = measure(content)
    units = reference_units(content)
    single, part = (160, 153) if info.encoding is Encoding.GSM7 else (70, 67)
    assert info.units == units
    assert info.segments == (1 if units <= single else math.ceil(units / part))


@pytest.mark.parametrize(
    ("content", "sizes"),
    [
        ("x" * 160, [160]),
        ("x" * 161, [153, 8]),
        ("x" * 152 + "€" + "y" * 10, [152, 11]),  # the escape and code of € stay together
        ("✓" + "x" * 69, [70]),
        ("✓" + "x" * 70, [67, 4]),
        ("x" * 66 + "😀" + "y" * 5, [66, 6]),  # a surrogate pair is never cut
    ],
)
def test_segments_are_cut_where_a_phone_cuts_them(content: str, sizes: list[int]) -> None:
    parts = encoding.split_segments(content)
    assert "".join(parts) == content
    assert [len(part) for part in parts] == sizes
    assert len(parts) == measure(content).segments


@given(mixed_text)
def test_segment_cuts_always_agree_with_the_count(content: str) -> None:
    info = measure(content)
    if info.segments <= MAX_SEGMENTS:
        parts = encoding.split_segments(content)
        assert "".join(parts) == content
        assert len(parts) == info.segments


def test_the_characters_that_force_ucs2() -> None:
    assert [c for c in "Café ✓ €ç😀" if encoding.forces_ucs2(c)] == ["✓", "ç", "😀"]


def measured_one_by_one(contents: list[str]) -> tuple[list[str], list[int]] | None:
    """The reference for ``measure_column``: each body measured on its own."""
    infos = [measure(content) for content in contents]
    if any(info.segments > MAX_SEGMENTS for info in infos):
        return None
    return [info.encoding for info in infos], [info.segments for info in infos]


# Bodies around the one-segment limit, plain ASCII ones most of all (the column's fast
# path), with extension, non-ASCII and non-GSM characters among them.
ascii_gsm = st.text(alphabet="Hello world 0123456789.,!?@", max_size=170)
column_bodies = st.one_of(
    ascii_gsm,
    st.sampled_from(["x" * 160, "x" * 161, "x" * 1530, "x" * 1531, "{" * 80, "é" * 3, "`"]),
    mixed_text,
)


@given(
    st.one_of(
        st.lists(ascii_gsm, min_size=1, max_size=8),
        st.lists(column_bodies, min_size=1, max_size=8),
    )
)
def test_a_column_of_bodies_is_measured_as_each_body_is(contents: list[str]) -> None:
    measured = encoding.measure_column(contents)
    assert measured == measured_one_by_one(contents)
    if measured is not None:  # the very values (the enum), not only equal strings
        assert all(type(e) is Encoding for e in measured[0])


@pytest.mark.parametrize(
    "contents",
    [["x" * 160], ["x" * 161], ["Hi", "x" * 161], ["Hi", "x" * 159 + "{"], ["Hi", "é"], ["\t"]],
)
def test_one_segment_column_edges(contents: list[str]) -> None:
    assert encoding.measure_column(contents) == measured_one_by_one(contents)
