"""``web.headers.header`` (a speed seam: a scan of the ASGI scope) is held to Starlette's
``request.headers.get``, the plain way of reading a header."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from mock_puresms.web.headers import header

NAMES = st.sampled_from([b"x-api-key", b"content-type", b"content-length", b"authorization"])
# What an ASGI server hands over: lower-case names, latin-1 values, repeats allowed.
HEADERS = st.lists(
    st.tuples(
        st.one_of(NAMES, st.binary(min_size=1, max_size=8).map(bytes.lower)),
        st.binary(max_size=12),
    ),
    max_size=8,
)


@given(HEADERS, NAMES)
def test_header_reads_what_starlette_reads(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    request = Request({"type": "http", "headers": headers})

    assert header(request, name) == request.headers.get(name.decode())
