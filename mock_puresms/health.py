"""``mock-puresms health``: is a server answering ``/_mock/health``? (Docker's
``HEALTHCHECK``, CI service checks, scripts waiting for ``serve`` to be ready.)

With no URL it probes where ``serve`` with the same settings listens: the host and
port of ``--host``/``--port`` or ``MOCK_PURESMS_HOST``/``MOCK_PURESMS_PORT``, a
wildcard host (``0.0.0.0``, ``::``) reached through the loopback of its family.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

POLL_INTERVAL = 0.1

# Health probes go to this machine: a proxy from the environment must not carry them.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def check(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers health with 200, else why not."""
    try:
        with _opener.open(f"{base_url}/_mock/health", timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return f"{base_url} is not healthy: {reason}"
    return None if status == 200 else f"{base_url} is not healthy: HTTP {status}"


def wait(base_url: str, seconds: float) -> str | None:
    """Probe until healthy or ``seconds`` have passed; None when healthy, else why not."""
    deadline = time.monotonic() + seconds
    while True:
        problem = check(base_url, timeout=max(0.1, min(5.0, deadline - time.monotonic())))
        if problem is None or time.monotonic() >= deadline:
            return problem
        time.sleep(POLL_INTERVAL)
