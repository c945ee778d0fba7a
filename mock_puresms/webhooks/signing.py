"""Webhook signatures: base64(HMAC-SHA256(secret, "{timestamp}.{raw body}"))."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Webhook-Signature`` of ``body`` sent at Unix time ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
