"""The current API's route table: no version prefix (API.md 9.1)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_puresms.api_connect import reporting, sms
from mock_puresms.web.routing import FlexibleRoute

# Where a request belongs to this surface, for answers no route gives (404, 405).
PATH_PREFIXES = ("/sms/", "/reporting/")


def is_connect_path(path: str) -> bool:
    """Whether ``path`` is under this surface (case-insensitive, as its routes are)."""
    lowered = path.lower()
    return lowered.startswith(PATH_PREFIXES) or lowered in ("/sms", "/reporting")


def connect_routes() -> list[BaseRoute]:
    # "/sms/send/bulk" before "/sms/send/{id}", which would take "bulk" as an id.
    return [
        FlexibleRoute("/sms/send", {"POST": sms.send}),
        FlexibleRoute("/sms/send/bulk", {"POST": sms.send_bulk}),
        FlexibleRoute("/sms/send/bulk/{id}", {"DELETE": sms.cancel_bulk}),
        FlexibleRoute("/sms/send/{id}", {"DELETE": sms.cancel}),
        FlexibleRoute("/reporting/client-tag-report", {"GET": reporting.client_tag_report}),
    ]
