"""A ``--db`` mock whose messages still load in the background after a restart: what
must see every message waits for the load, so none of it tells that the load was not
done before the server answered.

Every restart here leaves all messages to the background load, a message at a time
(``EAGER_SECONDS`` and ``SLICE`` set for the test), so each request below is made while
the load runs. ``tests/e2e/test_restart_loading.py`` does the same on a real server and
a file of 150,000 messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inprocess import Mock
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.storage.sqlite import store


@pytest.fixture(autouse=True)
def everything_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EAGER_SECONDS", 0.0)
    monkeypatch.setattr(store, "SLICE", 1)


@contextlib.contextmanager
def served(database: Path, **settings: Any) -> Iterator[Mock]:
    with TestClient(create_app(Settings(clock="virtual", db=database, **settings))) as client:
        yield Mock(client)


def total(mock: Mock, path: str = "/v1/Sms") -> int:
    response = mock.v1("GET", path + "?pageSize=1")
    assert response.status_code == 200, response.text
    count: int = response.json()["totalCount"]
    return count


def fill(database: Path, count: int) -> list[str]:
    """``count`` messages, the first half finished, the rest in flight; references."""
    with served(database, max_messages=None) as mock:
        first = [mock.send(to=f"4479000001{i:02d}")["reference"] for i in range(count // 2)]
        mock.advance(10)
        rest = [mock.send(to=f"4479000002{i:02d}")["reference"] for i in range(count - count // 2)]
    return first + rest


def test_an_advance_while_loading_moves_every_message_in_flight(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    references = fill(database, 20)
    with served(database, max_messages=None) as mock:
        mock.advance(10)  # waits for the load: no step of a message loading is skipped
        statuses = {
            m["reference"]: m["deliveryStatusName"]
            for m in mock.v1("GET", "/v1/Sms?pageSize=100").json()["items"]
        }
        assert statuses == dict.fromkeys(references, "Delivered")


def test_retention_applies_once_the_load_is_done(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    fill(database, 20)
    with served(database, max_messages=5) as mock:
        mock.advance(10)  # every message finished; retention follows the load
        assert total(mock) == 5


def test_a_reset_while_loading_forgets_the_messages_not_loaded_yet(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    fill(database, 20)
    with served(database, max_messages=None) as mock:
        assert mock.client.post("/_mock/reset").status_code in (200, 204)
        assert total(mock) == 0
    with served(database, max_messages=None) as mock:
        assert total(mock) == 0


def test_a_send_while_loading_is_listed_after_the_loaded_messages(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    references = fill(database, 10)
    with served(database, max_messages=None) as mock:
        sent = mock.send(to="447900000300")["reference"]
        listed = mock.v1("GET", "/v1/Sms?pageSize=100").json()
        assert listed["totalCount"] == 11
        assert [m["reference"] for m in listed["items"]] == [sent, *reversed(references)]
    with served(database, max_messages=None) as mock:  # and so in the file
        listed = mock.v1("GET", "/v1/Sms?pageSize=100").json()
        assert [m["reference"] for m in listed["items"]] == [sent, *reversed(references)]
