"""mock-puresms: an offline-capable mock of the PureSMS v1 SMS API."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["DeliveryStatus", "Settings", "__version__", "create_app"]

from mock_puresms.app import create_app
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.settings import Settings
