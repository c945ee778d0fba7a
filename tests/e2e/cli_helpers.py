"""What the tests of the real command line share: free ports and a clean environment."""

from __future__ import annotations

import os
import socket

_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy"}


def free_port() -> int:
    """A TCP port nobody listens on right now (another process could still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without MOCK_PURESMS_* and proxy variables, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MOCK_PURESMS_") and k.lower() not in _PROXY_VARIABLES
    }
    env.update(extra)
    return env
