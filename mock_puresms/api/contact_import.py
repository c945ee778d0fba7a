"""``POST /v1/Contacts/Import``: up to 15,000 contacts from a JSON array or a CSV file.

Every row is checked first; the good ones are then written as one unit, so a bad row
never blocks the others and a failed request changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.api.contact_input import (
    CsvLayout,
    Errors,
    contact_draft,
    csv_draft,
    csv_layout,
)
from mock_puresms.domain.contacts import ContactDraft
from mock_puresms.web.body import is_json_type, read_body, read_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.problems import ProblemError, field_error
from mock_puresms.web.responses import json_response

MAX_IMPORT_ROWS = 15_000
CSV_TYPES = ("text/csv", "application/csv")

Rows = list[ContactDraft | Errors]


def _too_many(count: int) -> ProblemError:
    return field_error(
        "$", f"An import holds at most {MAX_IMPORT_ROWS:,} rows; this one holds {count:,}."
    )


def _json_rows(body: Any) -> Rows:
    if not isinstance(body, list):
        raise field_error("$", "The body must be a JSON array of contacts.")
    if len(body) > MAX_IMPORT_ROWS:
        raise _too_many(len(body))
    return [contact_draft(item) for item in body]


def _decode(raw: bytes, content_type: str) -> str:
    """The CSV text: UTF-8 (a BOM, as spreadsheets write, is dropped) unless a charset says."""
    charset = "utf-8"
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    try:
        codec = codecs.lookup(charset).name
    except LookupError as exc:
        raise ProblemError(415, f"The charset '{charset}' is not supported.") from exc
    try:
        return raw.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        raise field_error(
            "$", f"The CSV is not valid {charset} at byte {exc.start}: {exc.reason}."
        ) from exc


def _header(reader: Any) -> tuple[CsvLayout, int]:
    """The layout of the header row, and how many fields each row must have."""
    for row in reader:
        if row:  # blank lines before the header are skipped, as spreadsheets do
            header = [name.strip() for name in row]
            break
    else:
        raise field_error("$", "The CSV is empty: a header row naming 'phoneNumber' is needed.")
    lowered = [name.lower() for name in header]
    for position, name in enumerate(lowered):
        if not name:
            raise field_error("$", f"Column {position + 1} of the CSV header has no name.")
        if lowered.index(name) != position:
            raise field_error("$", f"The CSV header names '{header[position]}' twice.")
    layout = csv_layout(header)
    if layout is None:
        raise field_error(
            "$", "The CSV header must have a 'phoneNumber' column (header names ignore case)."
        )
    return layout, len(header)


def _csv_rows(text: str) -> Rows:
    """One draft or error map per data row; a malformed file is a ``400`` naming its line."""
    # strict=True makes the csv module refuse what it would otherwise guess at: text after
    # a closing quote, or a quote never closed.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        layout, width = _header(reader)
        rows: Rows = []
        for row in reader:
            if not row:
                continue  # a blank line is no row, and takes no index
            if len(row) != width:
                raise field_error(
                    "$",
                    f"Line {reader.line_num} of the CSV has {len(row)} fields; "
                    f"the header has {width}.",
                )
            if len(rows) == MAX_IMPORT_ROWS:
                raise _too_many(MAX_IMPORT_ROWS + 1 + sum(1 for r in reader if r))
            rows.append(csv_draft(layout, row))
    except csv.Error as exc:
        raise field_error("$", f"Line {reader.line_num} of the CSV is malformed: {exc}.") from exc
    return rows


async def _rows(request: Request) -> Rows:
    content_type = request.headers.get("content-type", "")
    if is_json_type(content_type):
        return _json_rows(await read_json(request))
    if content_type.split(";", 1)[0].strip().lower() in CSV_TYPES:
        return _csv_rows(_decode(await read_body(request), content_type))
    raise ProblemError(
        415,
        "Send the contacts as 'application/json' (an array of contacts) or as 'text/csv' "
        "(a header row naming 'phoneNumber', then one contact per row).",
    )


async def import_contacts(request: Request) -> Response:
    """``POST /v1/Contacts/Import`` → ``{"created", "updated", "errors"}``."""
    account = await authenticate(request)
    rows = await _rows(request)
    drafts = [row for row in rows if isinstance(row, ContactDraft)]
    errors = [{"index": i, "errors": row} for i, row in enumerate(rows) if isinstance(row, dict)]
    result = await mock_of(request).import_contacts(account.id, drafts)
    return json_response({"created": result.created, "updated": result.updated, "errors": errors})
