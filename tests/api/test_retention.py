"""Retention: --max-messages and --retention bound what the mock keeps, in both stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inprocess import Mock
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app


def send_many(mock: Mock, count: int) -> list[str]:
    """Send ``count`` messages to ordinary numbers, oldest first; their references."""
    return [mock.send(to=f"4479000000{index:02d}")["reference"] for index in range(count)]


def _total(mock: Mock, path: str = "/v1/Sms") -> int:
    response = mock.v1("GET", path + "?pageSize=1")
    assert response.status_code == 200, response.text
    total: int = response.json()["totalCount"]
    return total


def test_max_messages_keeps_the_newest_finished_messages(make_mock: Callable[..., Mock]) -> None:
    mock = make_mock(max_messages=5)
    references = send_many(mock, 10)
    mock.advance(10)  # all Delivered; retention runs after an advance
    assert _total(mock) == 5
    for reference in references[:5]:
        assert mock.v1("GET", f"/v1/Sms/{reference}").status_code == 404
    for reference in references[5:]:
        assert mock.v1("GET", f"/v1/Sms/{reference}").status_code == 200


def test_max_messages_never_removes_a_message_still_in_flight(
    make_mock: Callable[..., Mock],
) -> None:
    mock = make_mock(max_messages=2)
    stuck = mock.send(to="447700900005")["reference"]  # Enroute for ever: never finished
    send_many(mock, 4)
    mock.advance(10)
    assert mock.v1("GET", f"/v1/Sms/{stuck}").status_code == 200
    assert _total(mock) == 2


def test_retention_removes_messages_finished_longer_ago_than_it(
    make_mock: Callable[..., Mock],
) -> None:
    mock = make_mock(retention="1m")
    old = mock.send()["reference"]
    stuck = mock.send(to="447700900005")["reference"]
    mock.advance(30)
    assert mock.v1("GET", f"/v1/Sms/{old}").status_code == 200  # finished 27 s ago
    mock.advance(40)
    assert mock.v1("GET", f"/v1/Sms/{old}").status_code == 404  # finished 67 s ago
    assert mock.v1("GET", f"/v1/Sms/{stuck}").status_code == 200


def test_retention_also_forgets_old_replies(make_mock: Callable[..., Mock]) -> None:
    mock = make_mock(retention="1m")
    mock.send(to="447700900006")  # replies STOP 8 s after sending
    mock.advance(10)
    assert _total(mock, "/v1/Replies") == 1
    mock.advance(120)
    assert _total(mock, "/v1/Replies") == 0


def test_pruned_messages_stay_gone_after_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    settings = Settings(clock="virtual", db=database, max_messages=3)
    with TestClient(create_app(settings)) as client:
        mock = Mock(client)
        send_many(mock, 6)
        mock.advance(10)
        assert _total(mock) == 3
    with TestClient(create_app(settings)) as client:
        assert _total(Mock(client)) == 3


def test_a_partly_pruned_bulk_keeps_its_newest_messages_after_a_restart(tmp_path: Path) -> None:
    # A bulk is stored as one row: pruning part of it rewrites that row.
    database = tmp_path / "mock.db"
    settings = Settings(clock="virtual", db=database, max_messages=3)
    body = {
        "from": "Acme",
        "content": "Hi",
        "messages": [{"to": f"44790000010{i}"} for i in range(6)],
    }
    with TestClient(create_app(settings)) as client:
        mock = Mock(client)
        sent = mock.v1("POST", "/v1/Sms/SendBulk", json=body).json()["messages"]
        references = [item["reference"] for item in sent]
        mock.advance(10)
        before = [mock.v1("GET", f"/v1/Sms/{r}") for r in references]
    with TestClient(create_app(settings)) as client:
        mock = Mock(client)
        after = [mock.v1("GET", f"/v1/Sms/{r}") for r in references]

    assert [r.status_code for r in before] == [404] * 3 + [200] * 3
    assert [r.status_code for r in after] == [404] * 3 + [200] * 3
    assert [r.json() for r in after[3:]] == [r.json() for r in before[3:]]
    assert [r.json()["deliveryStatusName"] for r in after[3:]] == ["Delivered"] * 3


def test_an_invalid_retention_is_refused() -> None:
    try:
        Settings(retention="soon")
    except ValueError as exc:
        assert "retention" in str(exc)
    else:
        raise AssertionError("an invalid --retention was accepted")


def test_settings_bound_messages_by_default() -> None:
    assert Settings().max_messages == 1_000_000


def test_max_messages_also_bounds_replies(make_mock: Callable[..., Mock]) -> None:
    mock = make_mock(max_messages=3)
    for index in range(6):
        mock.send(to="447700900006", content=f"m{index}")  # each gets a STOP reply
    mock.advance(20)
    assert _total(mock, "/v1/Replies") == 3


def test_max_messages_also_bounds_finished_webhook_deliveries(
    make_mock: Callable[..., Mock], tmp_path: Path
) -> None:
    """Deliveries were pruned only with --retention (issue 16, defect 3)."""
    from mock_puresms.testing.webhook_sink import SinkServer

    with SinkServer() as server:
        sink = server.sink(at_root=True)
        mock = make_mock(max_messages=4)
        body = {"deliveryReceiptUrl": sink.url_for("/r"), "replyUrl": None, "secret": None}
        assert mock.v1("PUT", "/v1/Account/Webhooks", json=body).status_code == 200
        for index in range(10):
            mock.send(to=f"4479000000{index:02d}")
            mock.advance(5)  # one Enroute and one Delivered receipt POST per message
        listed = mock.client.get("/_mock/webhooks", params={"pageSize": "100"}).json()
    assert len(sink.posts()) == 20
    assert listed["totalCount"] == 4
    assert all(item["state"] == "delivered" for item in listed["items"])


def test_expired_tokens_are_forgotten_even_if_never_used_again(
    make_mock: Callable[..., Mock],
) -> None:
    mock = make_mock()
    form = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s"}
    for _ in range(3):
        assert mock.client.post("/connect/token", data=form).status_code == 200
    store = mock.core._store  # what the mock holds: no surface lists tokens
    assert len(store._memory._tokens if hasattr(store, "_memory") else store._tokens) == 3
    mock.advance(3601)  # tokens live an hour; retention runs after an advance
    assert len(store._memory._tokens if hasattr(store, "_memory") else store._tokens) == 0
