"""``GET /_mock/wait``: a long poll woken by the event bus, on a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_puresms.app import control_for
from mock_puresms.testing.server_thread import ServerThread

HEADERS = {"X-API-Key": "wait-key"}


@pytest.fixture
def server(live_server: Callable[..., ServerThread]) -> ServerThread:
    return live_server()


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        yield client


def send(client: httpx.Client, to: str = "447700900100") -> str:
    response = client.post(
        "/v1/Sms/Send", json={"to": to, "from": "Acme", "content": "Hi"}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


def wait(client: httpx.Client, reference: str, status: str, timeout: float = 10) -> Any:
    return client.get(
        "/_mock/wait",
        params={"reference": reference, "deliveryStatus": status, "timeout": timeout},
    )


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_status_already_reached_answers_at_once_with_the_message(
    client: httpx.Client,
) -> None:
    reference = send(client)

    response = wait(client, reference, "Accepted", timeout=0)

    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["deliveryStatusName"]) == (reference, "Accepted")
    assert body["account"]


def test_a_status_passed_earlier_counts_as_reached(client: httpx.Client) -> None:
    reference = send(client)
    client.post("/_mock/clock/advance", json={"seconds": 5})

    response = wait(client, reference, "1", timeout=0)  # Enroute, by its code

    assert response.status_code == 200
    assert response.json()["deliveryStatusName"] == "Delivered"


def test_the_wait_returns_when_an_advance_delivers_the_message(
    client: httpx.Client, server: ServerThread
) -> None:
    reference = send(client)
    with httpx.Client(base_url=server.base_url, trust_env=False) as other:
        thread = later(0.3, lambda: other.post("/_mock/clock/advance", json={"seconds": 3}))
        started = time.monotonic()
        response = wait(client, reference, "Delivered")
        elapsed = time.monotonic() - started
        thread.join()

    assert response.status_code == 200
    assert response.json()["deliveryStatusName"] == "Delivered"
    assert 0.25 < elapsed < 5


def test_a_waiter_is_registered_on_the_bus_not_polling(
    client: httpx.Client, server: ServerThread
) -> None:
    reference = send(client)
    waiters = control_for(server.app).waiters
    seen: list[int] = []
    with httpx.Client(base_url=server.base_url, trust_env=False) as other:

        def force() -> None:
            seen.append(len(waiters))
            other.post(f"/_mock/messages/{reference}/status", json={"deliveryStatus": "Rejected"})

        thread = later(0.3, force)
        response = wait(client, reference, "Rejected")
        thread.join()

    assert response.status_code == 200
    assert seen == [1]
    assert len(waiters) == 0


def test_the_wait_times_out_with_a_408_problem(client: httpx.Client) -> None:
    reference = send(client)

    started = time.monotonic()
    response = wait(client, reference, "Delivered", timeout=0.3)

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 408
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        f"Message {reference} did not reach Delivered within 0.3 s; it is Accepted."
    )


def test_a_final_status_that_is_not_the_one_awaited_is_a_409_at_once(
    client: httpx.Client,
) -> None:
    reference = send(client, to="447700900001")  # the magic number for Undeliverable
    client.post("/_mock/clock/advance", json={"seconds": 5})

    response = wait(client, reference, "Delivered", timeout=30)

    assert response.status_code == 409
    assert "Undeliverable" in response.json()["detail"]


def test_an_unknown_reference_is_a_404(client: httpx.Client) -> None:
    assert wait(client, "MNOPE", "Delivered").status_code == 404


def test_a_reset_during_the_wait_answers_404(client: httpx.Client, server: ServerThread) -> None:
    reference = send(client)
    with httpx.Client(base_url=server.base_url, trust_env=False) as other:
        thread = later(0.3, lambda: other.post("/_mock/reset"))
        response = wait(client, reference, "Delivered")
        thread.join()

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"reference", "deliveryStatus"}),
        ({"reference": "M1", "deliveryStatus": "Sent"}, {"deliveryStatus"}),
        ({"reference": "M1", "deliveryStatus": "2", "timeout": "301"}, {"timeout"}),
        ({"reference": "M1", "deliveryStatus": "2", "timeout": "-1"}, {"timeout"}),
        ({"reference": "M1", "deliveryStatus": "2", "timeout": "soon"}, {"timeout"}),
        ({"reference": "M1", "deliveryStatus": "2", "timeout": "nan"}, {"timeout"}),
    ],
)
def test_bad_parameters_are_a_400_naming_each(
    client: httpx.Client, params: dict[str, str], fields: set[str]
) -> None:
    response = client.get("/_mock/wait", params=params)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields


def test_a_server_shutting_down_ends_the_wait(live_server: Callable[..., ServerThread]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        reference = send(client)
        result: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: result.append(wait(client, reference, "Delivered", timeout=120))
        )
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        server.stop()
        thread.join(10)

    assert time.monotonic() - started < 5
    assert result and result[0].status_code == 503
