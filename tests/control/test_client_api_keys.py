"""``ControlClient`` takes ``api_key=`` wherever it takes ``account=`` (issue 15, point 6):
the control surface resolves a key to the account it authenticates as (``?apiKey=``,
``"apiKey"`` in a reply), in open mode and in strict mode. Real servers on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_puresms.testing.client import ControlClient, MockPureSMSError
from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.testing.webhook_sink import SinkServer, WebhookSink


def send(server: ServerThread, key: str, to: str = "447700900100", **fields: Any) -> str:
    body = {"to": to, "from": "Acme", "content": "Hello", **fields}
    response = httpx.post(
        server.base_url + "/v1/Sms/Send", json=body, headers={"X-API-Key": key}, trust_env=False
    )
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


@pytest.fixture
def receiver() -> Iterator[WebhookSink]:
    with SinkServer() as server:
        yield server.sink()


@pytest.fixture
def server(live_server: Callable[..., ServerThread]) -> ServerThread:
    """A mock in open mode: any key is an account."""
    return live_server()


@pytest.fixture
def open_mock(server: ServerThread) -> Iterator[ControlClient]:
    with ControlClient(server.base_url, api_key="key-a") as client:
        yield client


def test_messages_and_webhooks_of_a_key_in_open_mode(
    server: ServerThread, open_mock: ControlClient, receiver: WebhookSink
) -> None:
    mine = send(server, "key-a", deliveryReceiptUrl=receiver.url_for("/a"))
    theirs = send(server, "key-b", deliveryReceiptUrl=receiver.url_for("/b"))
    open_mock.advance(5)

    assert [m.reference for m in open_mock.messages(api_key="key-a")] == [mine]
    assert [m.reference for m in open_mock.messages(api_key="key-b")] == [theirs]
    # The same account as the id the mock gave the key.
    account = open_mock.message(mine).account
    assert open_mock.messages(api_key="key-a") == open_mock.messages(account=account)
    # A key not used yet names an account with nothing in it, not an error.
    assert open_mock.messages(api_key="never-used") == []
    assert {d.url for d in open_mock.webhooks(api_key="key-a")} == {receiver.url_for("/a")}
    assert {d.url for d in open_mock.webhooks(api_key="key-b")} == {receiver.url_for("/b")}


def test_reset_of_a_key_forgets_only_its_account(
    server: ServerThread, open_mock: ControlClient
) -> None:
    send(server, "key-a")
    kept = send(server, "key-b")

    open_mock.reset(api_key="key-a")

    assert open_mock.messages(api_key="key-a") == []
    assert [m.reference for m in open_mock.messages()] == [kept]
    open_mock.reset(api_key="never-used")  # nothing to forget, no error
    assert [m.reference for m in open_mock.messages()] == [kept]


def test_a_reply_for_a_key_goes_to_its_account(
    server: ServerThread, open_mock: ControlClient
) -> None:
    send(server, "key-b")  # the last sender to this phone: the default would pick it

    reply = open_mock.reply("447700900100", "Acme", "YES", api_key="key-a")

    assert [r.reference for r in open_mock.replies(api_key="key-a")] == [reply.reference]
    assert open_mock.replies(api_key="key-b") == []
    # Before the key has sent anything: the account is made, as the API would make it.
    fresh = open_mock.reply("447700900999", "Other", "HI", api_key="fresh-key")
    assert [r.reference for r in open_mock.replies(api_key="fresh-key")] == [fresh.reference]


def test_account_and_api_key_together_are_refused_naming_api_key(
    server: ServerThread,
    open_mock: ControlClient,
) -> None:
    send(server, "key-a")
    account = open_mock.messages()[0].account
    for call in (
        lambda: open_mock.messages(account=account, api_key="key-a"),
        lambda: open_mock.reset(account=account, api_key="key-a"),
        lambda: open_mock.webhooks(account=account, api_key="key-a"),
        lambda: open_mock.reply("447700900100", "Acme", "X", account=account, api_key="key-a"),
    ):
        with pytest.raises(MockPureSMSError, match="apiKey") as caught:
            call()
        assert caught.value.status == 400


def test_strict_mode_resolves_configured_keys_and_refuses_others(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(
        "accounts:\n"
        "  - {name: acme, apiKeys: [acme-1, acme-2]}\n"
        "  - {name: other, apiKeys: [other-1]}\n"
    )
    server = live_server(config=config)
    with ControlClient(server.base_url) as client:
        first = send(server, "acme-1")
        second = send(server, "acme-2")
        send(server, "other-1")

        # Both keys of acme name the one account, as its name does.
        by_key = [m.reference for m in client.messages(api_key="acme-2")]
        assert sorted(by_key) == sorted([first, second])
        assert client.messages(api_key="acme-1") == client.messages(account="acme")
        reply = client.reply("447700900100", "Acme", "YES", api_key="other-1")
        assert [r.reference for r in client.replies(api_key="other-1")] == [reply.reference]

        for call in (
            lambda: client.messages(api_key="nobody"),
            lambda: client.webhooks(api_key="nobody"),
            lambda: client.reset(api_key="nobody"),
            lambda: client.reply("447700900100", "Acme", "X", api_key="nobody"),
        ):
            with pytest.raises(MockPureSMSError, match="apiKey") as caught:
                call()
            assert caught.value.status == 400
        assert len(client.messages()) == 3  # the refused reset forgot nothing
