"""The one rule for webhook URLs, shared by the API (``PUT /v1/Account/Webhooks``) and the
config file: an absolute ``http`` or ``https`` URL with a host (and no port 0)."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL a webhook can be POSTed to."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok
