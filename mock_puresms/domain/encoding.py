"""How an SMS body is encoded and how many segments it takes (GSM 03.38 / UCS-2).

A body is ``GSM7`` when every character is in the GSM 03.38 basic character set or its
extension table (an extension character costs two units: an escape and the character);
otherwise it is ``UCS2``, counted in UTF-16 code units. ``measure`` runs once per message
of a bulk send, so the scans below are done in C (``bytes.translate``, ``re``) rather than
character by character in Python.
"""

from __future__ import annotations

import re
from codecs import utf_16_le_encode as _utf_16_le_encode
from dataclasses import dataclass
from enum import StrEnum
from itertools import repeat
from operator import attrgetter, is_

MAX_SEGMENTS = 10
"""The most segments one message may take; longer content is refused."""

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
).replace("\x1b", "")
"""The GSM 03.38 basic character set in code order, without the escape at 0x1B.

Position 0x09 is the capital ``Ç`` of the ETSI table; lowercase ``ç`` is not GSM-7.
"""

GSM7_EXTENSION = "\f^{}\\[]~|€"
"""The GSM 03.38 extension table: each of these is sent as an escape plus one code."""

_GSM7_SINGLE_LIMIT, _GSM7_PART = 160, 153
_UCS2_SINGLE_LIMIT, _UCS2_PART = 70, 67

# ASCII fast path: one 1:1 byte translation marks each byte 0 (basic), 1 (not GSM-7)
# or 2 (extension), so "is it GSM-7" is a memchr and the extension count a count.
_BASIC, _NOT_GSM7, _EXTENDED = 0, 1, 2
_ASCII_CLASSES = bytes(
    _BASIC if chr(code) in GSM7_BASIC else _EXTENDED if chr(code) in GSM7_EXTENSION else _NOT_GSM7
    for code in range(128)
) + bytes([_NOT_GSM7] * 128)  # bytes.translate wants 256 entries; only ASCII comes here
# Other text: the same questions asked of the regex engine.
_NOT_GSM7_CHAR = re.compile("[^" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]")
_EXTENSION_CHAR = re.compile("[" + re.escape(GSM7_EXTENSION) + "]")


class Encoding(StrEnum):
    """The data coding of an SMS body, as PureSMS names it."""

    GSM7 = "GSM7"
    UCS2 = "UCS2"


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a body is encoded, its length in units of that encoding, and its segments."""

    encoding: Encoding
    units: int
    segments: int


# Bulk sends often repeat one body, so results are cached. A plain dict emptied when full
# costs far less on a miss than functools.lru_cache (a bulk of 15,000 distinct bodies is
# all misses). Content longer than _CACHEABLE_LENGTH cannot fit in MAX_SEGMENTS: it is
# measured but not kept, so the cache stays small whatever clients send.
_CACHE_SIZE = 4096
_CACHEABLE_LENGTH = MAX_SEGMENTS * _GSM7_PART
_cache: dict[str, SegmentInfo] = {}


def measure(content: str) -> SegmentInfo:
    """Return the encoding, units and segments of an SMS body (empty: 0 units, 1 segment)."""
    info = _cache.get(content)
    if info is None:
        info = _measure(content)
        if len(content) <= _CACHEABLE_LENGTH:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[content] = info
    return info


def measure_column(contents: list[str]) -> tuple[list[str], list[int]] | None:
    """The encoding and segment count of each body of a bulk, as two columns; ``None``
    when one is over ``MAX_SEGMENTS`` (the caller then checks the bodies one by one).

    The column fast path of both APIs' bulk sends: a plain bulk's bodies share one
    measurement, so its columns are built without a pass per message.
    """
    if _short_basic_gsm7(contents):
        # Every body one segment of GSM-7: 0.4 ms for 15,000 bodies, against 1.8 ms for
        # a measurement each and the two columns read from them.
        return [Encoding.GSM7] * len(contents), [1] * len(contents)
    infos = measure_all(contents)
    first = infos[0]
    if all(map(is_, infos, repeat(first))):
        encodings: list[str] = [first.encoding] * len(infos)
        segments = [first.segments] * len(infos)
    else:
        encodings, segments = list(map(_ENCODING, infos)), list(map(_SEGMENTS, infos))
    if max(segments) > MAX_SEGMENTS:
        return None
    return encodings, segments


def _short_basic_gsm7(contents: list[str]) -> bool:
    """Whether every body is ASCII of the GSM-7 basic set, at most 160 characters long."""
    joined = "".join(contents)
    if not joined.isascii():
        return False
    classes = joined.encode("ascii").translate(_ASCII_CLASSES)
    return (
        _NOT_GSM7 not in classes
        and _EXTENDED not in classes
        and max(map(len, contents), default=0) <= _GSM7_SINGLE_LIMIT
    )


_ENCODING = attrgetter("encoding")
_SEGMENTS = attrgetter("segments")


def measure_all(contents: list[str]) -> list[SegmentInfo]:
    """``measure`` for many bodies; plain GSM-7 text is measured in one pass over all."""
    joined = "".join(contents)
    if joined.isascii():
        classes = joined.encode("ascii").translate(_ASCII_CLASSES)
        if _NOT_GSM7 not in classes and _EXTENDED not in classes:
            # One unit per character in every body: the length says it all.
            lengths = list(map(len, contents))
            if max(lengths, default=0) <= _GSM7_MAX_UNITS:
                return list(map(_GSM7_INFOS.__getitem__, lengths))
    return list(map(measure, contents))


def _measure(content: str) -> SegmentInfo:
    if content.isascii():
        classes = content.encode("ascii").translate(_ASCII_CLASSES)
        if _NOT_GSM7 not in classes:
            units = len(classes)
            if _EXTENDED in classes:  # a memchr; count() costs more and is rarely needed
                units += classes.count(_EXTENDED)
            return _GSM7_INFOS[units] if units <= _GSM7_MAX_UNITS else _info(Encoding.GSM7, units)
        units = len(content)
    elif _NOT_GSM7_CHAR.search(content) is None:
        units = len(content) + len(_EXTENSION_CHAR.findall(content))
        return _GSM7_INFOS[units] if units <= _GSM7_MAX_UNITS else _info(Encoding.GSM7, units)
    else:
        # "surrogatepass": a lone surrogate (JSON can carry one) is one code unit, not an error.
        units = len(_utf_16_le_encode(content, "surrogatepass")[0]) >> 1
    return _UCS2_INFOS[units] if units <= _UCS2_MAX_UNITS else _info(Encoding.UCS2, units)


def _info(encoding: Encoding, units: int) -> SegmentInfo:
    if encoding is Encoding.GSM7:
        single, part = _GSM7_SINGLE_LIMIT, _GSM7_PART
    else:
        single, part = _UCS2_SINGLE_LIMIT, _UCS2_PART
    segments = 1 if units <= single else -(-units // part)
    return SegmentInfo(encoding, units, segments)


# Building a frozen dataclass costs more than measuring a short body, so every result a
# valid message can have is built once here and shared (it is immutable).
_GSM7_MAX_UNITS = MAX_SEGMENTS * _GSM7_PART
_UCS2_MAX_UNITS = MAX_SEGMENTS * _UCS2_PART
_GSM7_INFOS = tuple(_info(Encoding.GSM7, n) for n in range(_GSM7_MAX_UNITS + 1))
_UCS2_INFOS = tuple(_info(Encoding.UCS2, n) for n in range(_UCS2_MAX_UNITS + 1))


def first_non_gsm7(content: str) -> str | None:
    """The first character of ``content`` that GSM-7 cannot encode, if any."""
    if content.isascii() and _NOT_GSM7 not in content.encode("ascii").translate(_ASCII_CLASSES):
        return None
    found = _NOT_GSM7_CHAR.search(content)
    return found.group() if found is not None else None


def strip_non_gsm7(content: str) -> str:
    """``content`` without the characters GSM-7 cannot encode (the current API's
    ``unicode: Strip``)."""
    return _NOT_GSM7_CHAR.sub("", content)


_GSM7_CHARS = frozenset(GSM7_BASIC + GSM7_EXTENSION)
_GSM7_EXTENSION_CHARS = frozenset(GSM7_EXTENSION)


def forces_ucs2(char: str) -> bool:
    """Whether ``char`` is outside GSM-7, so a body holding it is sent as UCS-2."""
    return char not in _GSM7_CHARS


def split_segments(content: str) -> list[str]:
    """The body cut where a phone's segments end (one string for a single-part SMS).

    A multi-part segment carries 153 GSM-7 units or 67 UTF-16 units; a character is never
    cut in two (an extension character's escape and code, or a surrogate pair, stay
    together), so a segment may end a unit short. For display: ``measure`` counts.
    """
    info = measure(content)
    if info.segments <= 1:
        return [content]
    gsm7 = info.encoding is Encoding.GSM7
    part = _GSM7_PART if gsm7 else _UCS2_PART
    segments: list[str] = []
    start, used = 0, 0
    for index, char in enumerate(content):
        if gsm7:
            cost = 2 if char in _GSM7_EXTENSION_CHARS else 1
        else:
            cost = 2 if ord(char) > 0xFFFF else 1
        if used + cost > part:
            segments.append(content[start:index])
            start, used = index, 0
        used += cost
    segments.append(content[start:])
    return segments
