"""mock-puresms: an offline-capable mock of the PureSMS v1 SMS API."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["DeliveryStatus", "Settings", "__version__", "create_app"]

from mock_puresms.app import create_app  # noqa: E402
from mock_puresms.domain.statuses import DeliveryStatus  # noqa: E402
from mock_puresms.settings import Settings  # noqa: E402
