"""Query-string values, matched case-insensitively as ASP.NET Core binds them."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.domain.phones import normalize_phone
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.web.problems import field_error

MAX_PAGE_SIZE = 1000
MAX_PAGE = 2**31 - 1  # ASP.NET Core binds page to a 32-bit int


class Query:
    """A request's query parameters by case-insensitive name; errors use the given name."""

    def __init__(self, request: Request) -> None:
        self._values: dict[str, str] = {}
        self._repeated: set[str] = set()
        if request.scope.get("query_string"):
            for key, value in request.query_params.multi_items():
                lowered = key.lower()
                if lowered in self._values:
                    self._repeated.add(lowered)
                self._values[lowered] = value

    def text(self, name: str) -> str | None:
        """The value, or ``None`` when absent or empty."""
        if name.lower() in self._repeated:
            # Which of several values counts is a guess; the document allows one.
            raise field_error(name, f"'{name}' must be given once.")
        value = self._values.get(name.lower())
        return value if value else None

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        # int() alone would take "1_000" and non-ASCII digits ("٣"), which ASP.NET refuses.
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        # Python refuses to read more than 4,300 digits (a ValueError, so a 500), and a
        # number of more than 20 digits is outside every range asked for here anyway.
        significant = digits.lstrip("0") or "0"
        readable = digits.isascii() and digits.isdigit() and len(significant) <= 20
        value = (
            int(text[:1] + significant if text[:1] == "-" else significant) if readable else low - 1
        )
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"of {low} or more"
            raise field_error(name, f"'{name}' must be a whole number {allowed}.")
        return value

    def boolean(self, name: str) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return None
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise field_error(name, f"'{name}' must be true or false.")
        return lowered == "true"

    def status(self, name: str) -> DeliveryStatus | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return DeliveryStatus.parse(raw)
        except ValueError as exc:
            raise field_error(name, f"'{name}': {exc}.") from exc

    def paging(self) -> tuple[int, int]:
        """``page`` (from 1) and ``pageSize`` (1 to 1000, default 100)."""
        return (
            self.integer("page", 1, 1, MAX_PAGE),
            self.integer("pageSize", 100, 1, MAX_PAGE_SIZE),
        )


def message_query(query: Query, account_id: str | None) -> MessageQuery:
    """The message filters shared by ``GET /v1/Sms`` and ``GET /_mock/messages``."""
    to = query.text("to")
    page, page_size = query.paging()
    return MessageQuery(
        account_id=account_id,
        batch_reference=query.text("batchReference"),
        client_reference=query.text("clientReference"),
        # A number that cannot be valid matches nothing, rather than failing the list.
        to=(normalize_phone(to) or to) if to is not None else None,
        status=query.status("deliveryStatus"),
        is_test=query.boolean("isTest"),
        page=page,
        page_size=page_size,
    )
