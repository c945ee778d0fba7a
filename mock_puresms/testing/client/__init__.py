"""A typed client of a running mock's control surface: ``ControlClient`` and its errors.

``transport`` carries the HTTP, ``client`` speaks the control surface, ``asserts``
explains failed checks.
"""

from mock_puresms.testing.client.client import (
    ControlClient,
    MockPureSMSError,
    StatusLike,
    parse_status,
)
from mock_puresms.testing.client.rate_limits import RateLimitInfo
from mock_puresms.testing.client.transport import Transport

__all__ = [
    "ControlClient",
    "MockPureSMSError",
    "RateLimitInfo",
    "StatusLike",
    "Transport",
    "parse_status",
]
