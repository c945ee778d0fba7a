"""Where the server listens: binding its sockets before it starts, with a one-line reason
when it cannot, and the URLs that reach it from this machine.

The sockets are bound before uvicorn runs (and handed to it), so a taken port or a bad
host is reported before the application starts, in words that say what to change;
uvicorn would report ``[Errno 98]`` after "Application startup complete".
"""

from __future__ import annotations

import errno
import socket

WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class ListenError(OSError):
    """The server cannot listen; the message says why and what to change."""


def bind(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address of ``host`` (one port for all), not yet listening.

    Like asyncio's ``create_server``: ``SO_REUSEADDR``, and IPv6 sockets are IPv6 only
    (so ``::`` does not also take IPv4's port).
    """
    where = hostport(host, port)
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host!r}: the host name does not resolve ({exc.strerror}); "
            f"set --host or MOCK_PURESMS_HOST to an address of this machine, such as "
            f"127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ) from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address[0]) in seen:
                continue
            seen.add((family, address[0]))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            # With port 0, every address gets the port the first one was given.
            bound_port = sockets[0].getsockname()[1] if len(sockets) > 1 else port
            try:
                sock.bind((address[0], bound_port, *address[2:]))
            except OSError as exc:
                raise ListenError(_reason(exc, where, host)) from None
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _reason(exc: OSError, where: str, host: str) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use; stop what uses it or "
            f"choose another port with --port or MOCK_PURESMS_PORT (--port 0 picks a free one)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {where}: {host} is not an address of this machine; set --host "
            f"or MOCK_PURESMS_HOST to one that is, such as 127.0.0.1 (this machine only) or "
            f"0.0.0.0 (every interface)"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges); "
            f"choose another port with --port or MOCK_PURESMS_PORT"
        )
    return (
        f"cannot listen on {where}: {exc.strerror or exc}; check --host / MOCK_PURESMS_HOST "
        f"and --port / MOCK_PURESMS_PORT"
    )


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def local_host(host: str) -> str:
    """The host that reaches a server listening on ``host`` from this machine: the
    loopback address of the same family for a wildcard (``::`` listens on IPv6 only)."""
    return WILDCARDS.get(host, host)


def url_for(host: str, port: int) -> str:
    """``http://HOST:PORT`` reaching a server listening on ``host`` and ``port``."""
    return f"http://{hostport(local_host(host), port)}"
