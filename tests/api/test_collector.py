"""The server's garbage-collector policy (``mock_puresms.collector``): new messages are
frozen out of the collector's scans a thousand at a time, what a freeze holds back from
the collector is small, and a reset reclaims it only after many freezes (resets between
tests stay cheap)."""

from __future__ import annotations

import gc
import http.client
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from starlette.applications import Starlette

from mock_puresms import collector
from mock_puresms.app import mock_for
from mock_puresms.domain.events import MessagesLoaded
from mock_puresms.testing.server_thread import ServerThread

if TYPE_CHECKING:
    from inprocess import Mock


Install = Callable[[Starlette], None]


@pytest.fixture
def managed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """The policy of ``mock-puresms serve``, undone after the test; call it with an app
    to subscribe the policy to its core, as ``serve`` does."""
    thresholds = gc.get_threshold()
    monkeypatch.setattr(collector, "_managed", False)
    collector.manage_for_server()

    def install(app: Starlette) -> None:
        mock_for(app).subscribe(collector.on_event)

    try:
        yield install
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def bulk(mock: Mock, count: int, start: int = 0) -> None:
    messages = [{"to": f"4477{start + i:08d}"} for i in range(count)]
    response = mock.v1(
        "POST", "/v1/Sms/SendBulk", json={"from": "Acme", "content": "Hi", "messages": messages}
    )
    assert response.status_code == 200, response.text


def test_every_thousand_new_messages_are_frozen_out_of_the_collectors_scans(
    managed: Install, mock: Mock
) -> None:
    managed(mock.client.app)
    frozen = gc.get_freeze_count()
    bulk(mock, collector.FREEZE_EVERY - 2)
    mock.send(to="447700900001")
    assert gc.get_freeze_count() == frozen  # not yet a thousand

    mock.send(to="447700900002")  # the thousandth, by single send
    assert gc.get_freeze_count() >= frozen + collector.FREEZE_EVERY
    frozen = gc.get_freeze_count()

    bulk(mock, collector.FREEZE_EVERY, start=10_000)  # a thousand at once
    assert gc.get_freeze_count() >= frozen + collector.FREEZE_EVERY


def test_a_reset_reclaims_only_after_many_freezes(
    managed: Install, mock: Mock, monkeypatch: pytest.MonkeyPatch
) -> None:
    managed(mock.client.app)
    monkeypatch.setattr(collector, "RECLAIM_AFTER", 2)
    full_collections = 0

    def count_collections(phase: str, info: dict[str, int]) -> None:
        nonlocal full_collections
        if phase == "stop" and info["generation"] == 2:
            full_collections += 1

    gc.callbacks.append(count_collections)
    try:
        bulk(mock, collector.FREEZE_EVERY)
        assert mock.client.post("/_mock/reset").status_code == 200
        assert full_collections == 0  # one freeze: the reset is cheap
        bulk(mock, collector.FREEZE_EVERY)
        bulk(mock, collector.FREEZE_EVERY, start=10_000)
        assert mock.client.post("/_mock/reset").status_code == 200
        assert full_collections == 1  # two: the reset ran one full collection
        assert mock.client.post("/_mock/reset").status_code == 200
        assert full_collections == 1  # and starts counting again
    finally:
        gc.callbacks.remove(count_collections)


def post(base_url: str, path: str, body: dict[str, Any]) -> int:
    """A POST with the standard library's client, which leaves no cycles of its own."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json", "X-API-Key": "k"}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_what_freezing_holds_back_from_the_collector_is_small(
    managed: Install, live_server: Callable[..., ServerThread]
) -> None:
    # A freeze also catches the cyclic garbage alive at that moment (a connection's
    # transport, about ten objects) until the next reset: that is the policy's cost.
    server = live_server()
    managed(server.app)
    requests = 0
    for round_ in range(5):
        messages = [{"to": f"4477{round_:02d}{i:06d}"} for i in range(collector.FREEZE_EVERY)]
        body = {"from": "Acme", "content": "Hi", "messages": messages}
        assert post(server.base_url, "/v1/Sms/SendBulk", body) == 200
        # The simulation runs between the sends: statuses, events, scheduled work.
        assert post(server.base_url, "/_mock/clock/advance", {"seconds": 5}) == 200
        requests += 2
    assert gc.get_freeze_count() > 5 * collector.FREEZE_EVERY
    gc.unfreeze()
    assert gc.collect() < 20 * requests


def test_in_process_servers_leave_the_collector_alone(mock: Mock) -> None:
    frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
    bulk(mock, collector.FREEZE_EVERY)
    assert (gc.get_freeze_count(), gc.get_threshold()) == (frozen, thresholds)


def test_messages_a_restart_loads_in_the_background_are_frozen_too(managed: Install) -> None:
    """The background load's parts (``MessagesLoaded``) count as new messages."""
    frozen = gc.get_freeze_count()
    loaded = [[] for _ in range(collector.FREEZE_EVERY)]  # stand-ins the collector tracks
    collector.on_event(MessagesLoaded(len(loaded) - 1))
    assert gc.get_freeze_count() == frozen
    collector.on_event(MessagesLoaded(1))
    assert gc.get_freeze_count() >= frozen + len(loaded)
