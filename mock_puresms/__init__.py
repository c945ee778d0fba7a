"""mock-puresms: an offline-capable mock of the PureSMS v1 SMS API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.version import __version__

__all__ = ["DeliveryStatus", "Settings", "__version__", "create_app"]

if TYPE_CHECKING:
    from mock_puresms.app import create_app
    from mock_puresms.settings import Settings


def __getattr__(name: str) -> Any:
    # The server's modules load on first use: the pytest plugin is imported by every
    # pytest run where this package is installed, and must not cost it a second.
    if name == "create_app":
        from mock_puresms.app import create_app

        return create_app
    if name == "Settings":
        from mock_puresms.settings import Settings

        return Settings
    raise AttributeError(f"module 'mock_puresms' has no attribute {name!r}")
