"""``WebhookSink``: a real receiver that records, refuses on demand and explains misses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_puresms import DeliveryStatus
from mock_puresms.testing.webhook_sink import SinkServer, WebhookSink


@pytest.fixture(scope="module")
def server() -> Iterator[SinkServer]:
    server = SinkServer()
    yield server
    server.close()


@pytest.fixture
def sink(server: SinkServer) -> Iterator[WebhookSink]:
    sink = server.sink()
    yield sink
    server.drop(sink)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:
        yield client


def receipt(reference: str, status: int) -> dict[str, object]:
    return {
        "reference": reference,
        "clientReference": None,
        "batchReference": None,
        "deliveryStatus": status,
        "additionalMessage": None,
    }


def test_a_request_is_recorded_with_method_path_headers_and_body(
    sink: WebhookSink, http: httpx.Client
) -> None:
    response = http.post(sink.url + "?x=1", json={"a": 1}, headers={"X-Thing": "yes"})

    assert response.status_code == 200
    [request] = sink.requests
    assert (request.method, request.path, request.query) == ("POST", sink.path, "x=1")
    assert request.headers["x-thing"] == request.headers["X-THING"] == "yes"
    assert request.body == b'{"a":1}' and request.json == {"a": 1}
    assert request.status == 200


def test_respond_with_refuses_the_next_n_then_answers_200(
    sink: WebhookSink, http: httpx.Client
) -> None:
    sink.respond_with(503, times=2)
    sink.respond_with(410)

    statuses = [http.post(sink.url, content=b"x").status_code for _ in range(5)]

    assert statuses == [503, 503, 410, 200, 200]
    assert [r.status for r in sink.requests] == statuses


def test_respond_with_none_times_refuses_for_ever(sink: WebhookSink, http: httpx.Client) -> None:
    sink.respond_with(500, times=None)

    assert {http.post(sink.url).status_code for _ in range(4)} == {500}
    with pytest.raises(ValueError, match="mock-puresms"):
        sink.respond_with(500, times=0)


def test_urls_under_the_sink_are_its_own_and_others_are_404(
    server: SinkServer, sink: WebhookSink, http: httpx.Client
) -> None:
    other = server.sink()
    http.post(sink.url_for("/replies"), content=b"r")
    http.post(other.url, content=b"o")
    server.drop(other)

    assert [r.path for r in sink.requests] == [sink.path + "/replies"]
    assert http.post(other.url).status_code == 404
    assert http.post(server.base_url + "/elsewhere").status_code == 404
    assert [r.body for r in other.requests] == [b"o"]


def test_a_chunked_body_is_read_whole(sink: WebhookSink, http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'[{"a":'
        yield b" 1}]"

    http.post(sink.url, content=chunks())

    assert sink.requests[0].json == [{"a": 1}]


def test_receipts_are_typed_and_clear_forgets(sink: WebhookSink, http: httpx.Client) -> None:
    http.post(sink.url, json=[receipt("M1", 1), receipt("M2", 2)])
    http.post(sink.url, json={"reference": "R1", "content": "a reply"})
    http.post(sink.url, content=b"not json")

    assert [(r.reference, r.status) for r in sink.receipts()] == [
        ("M1", DeliveryStatus.ENROUTE),
        ("M2", DeliveryStatus.DELIVERED),
    ]
    assert sink.assert_receipt("M2").reference == "M2"
    sink.clear()
    assert sink.requests == [] and sink.receipts() == []


def test_assert_receipt_lists_what_arrived(sink: WebhookSink, http: httpx.Client) -> None:
    with pytest.raises(AssertionError, match="it received no request at all"):
        sink.assert_receipt("M1")
    http.post(sink.url, json={"not": "a receipt"})
    with pytest.raises(AssertionError, match=r"it received 1 request\(s\) but no receipt"):
        sink.assert_receipt("M1")
    http.post(sink.url, json=[receipt("M1", 1), receipt("M2", 2)])

    with pytest.raises(AssertionError) as wrong_status:
        sink.assert_receipt("M1", "Delivered")
    with pytest.raises(AssertionError) as unknown:
        sink.assert_receipt("M3", 2)

    assert str(wrong_status.value) == (
        f"mock-puresms: webhook sink {sink.url} has no Delivered receipt for M1; "
        "for M1 it got Enroute; all receipts: M1 Enroute, M2 Delivered"
    )
    assert "it got no receipt for M3; all receipts: M1 Enroute, M2 Delivered" in str(unknown.value)


def test_respond_in_turn_and_a_delay_script_the_answers(
    sink: WebhookSink, http: httpx.Client
) -> None:
    sink.respond_in_turn(500, 201)
    sink.respond_with(502, delay=0.2)

    started = time.monotonic()
    statuses = [http.post(sink.url).status_code for _ in range(4)]

    assert statuses == [500, 201, 502, 200]
    assert time.monotonic() - started >= 0.2
    assert [r.ok for r in sink.requests] == [False, False, False, True]


def test_posts_and_receipts_filter_by_url_and_answer(sink: WebhookSink, http: httpx.Client) -> None:
    sink.respond_with(500)
    http.post(sink.url_for("/a"), json=[receipt("M1", 1)])
    http.post(sink.url_for("/a"), json=[receipt("M1", 1)])
    http.post(sink.url_for("/b"), json=[receipt("M2", 2)])
    http.get(sink.url_for("/a"))

    assert [r.json for r in sink.posts("/b")] == [[receipt("M2", 2)]]
    assert len(sink.posts()) == 3 and len(sink.posts("/a")) == 2
    assert sink.raw_receipts("/a") == [receipt("M1", 1)] * 2
    assert [r.reference for r in sink.receipts(ok_only=True)] == ["M1", "M2"]
    assert sink.raw_receipts("/a", ok_only=True) == [receipt("M1", 1)]


def test_peak_concurrency_counts_requests_answered_at_once(sink: WebhookSink) -> None:
    sink.respond_with(200, times=3, delay=0.3)

    def post(suffix: str) -> None:
        with httpx.Client(trust_env=False) as client:
            client.post(sink.url_for(suffix))

    threads = [threading.Thread(target=post, args=(s,)) for s in ("/a", "/a", "/b")]
    for thread in threads:
        thread.start()
    assert len(sink.wait_for_requests(3, timeout=5)) == 3
    for thread in threads:
        thread.join()

    assert (sink.peak_concurrency(), sink.peak_concurrency("/a")) == (3, 2)
    with pytest.raises(AssertionError, match="received 3 request"):
        sink.wait_for_requests(4, timeout=0.05)


def test_a_closed_root_sink_refuses_even_kept_alive_connections() -> None:
    server = SinkServer()
    sink = server.sink(at_root=True)
    with httpx.Client(trust_env=False) as client:
        assert client.post(sink.url_for("/r")).status_code == 200
        assert [r.path for r in sink.requests] == ["/r"]
        with pytest.raises(ValueError, match="root sink already"):
            server.sink(at_root=True)

        server.close()

        with pytest.raises(httpx.TransportError):
            client.post(sink.url_for("/r"))
    assert len(sink.requests) == 1
