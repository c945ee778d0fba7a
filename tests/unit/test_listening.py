"""Where the server listens and how this machine reaches it (the health command's host
logic), and binding with a reason that says what to change."""

from __future__ import annotations

import socket

import pytest

from mock_puresms.listening import ListenError, bind, local_host, url_for


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("", 8080, "http://127.0.0.1:8080"),
        # `::` listens on IPv6 only (as asyncio binds it): IPv6 loopback reaches it.
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("localhost", 8080, "http://localhost:8080"),
        ("192.168.1.5", 80, "http://192.168.1.5:80"),
        ("fe80::1", 8080, "http://[fe80::1]:8080"),
    ],
)
def test_a_wildcard_host_is_reached_through_the_loopback_of_its_family(
    host: str, port: int, url: str
) -> None:
    assert url_for(host, port) == url


def test_a_specific_host_is_reached_as_it_is() -> None:
    assert local_host("10.0.0.7") == "10.0.0.7"


def test_bind_to_port_0_gives_a_free_port() -> None:
    sockets = bind("127.0.0.1", 0)
    try:
        assert len(sockets) == 1
        assert sockets[0].getsockname()[1] > 0
    finally:
        for sock in sockets:
            sock.close()


def test_a_taken_port_names_the_flag_the_variable_and_port_0() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError) as caught:
            bind("127.0.0.1", port)

    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "already in use" in message
    assert "--port" in message and "MOCK_PURESMS_PORT" in message and "--port 0" in message
    assert "\n" not in message


def test_an_address_of_another_machine_names_the_host_flag_and_variable() -> None:
    # TEST-NET-1 (RFC 5737): never an address of this machine; binding sends nothing.
    with pytest.raises(ListenError) as caught:
        bind("192.0.2.1", 0)

    message = str(caught.value)
    assert "192.0.2.1" in message and "not an address of this machine" in message
    assert "--host" in message and "MOCK_PURESMS_HOST" in message
