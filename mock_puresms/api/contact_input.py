"""Validation of contact bodies and CSV rows into ``ContactDraft``, errors keyed by JSON path.

One set of rules serves create, replace and both import formats, so a row that imports
is a body that ``POST /v1/Contacts`` would take. CSV rows have their own entry point
because every cell is already a string: skipping the type checks and the intermediate
object halves the cost of a 15,000-row import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_puresms.domain.contacts import ContactDraft
from mock_puresms.domain.phones import PHONE_RULE, normalize_phone
from mock_puresms.web.body import lowercase_keys

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path

Errors = dict[str, list[str]]

# The check of ASP.NET Core's [EmailAddress]: one '@', neither first nor last; whitespace
# is refused too, as it is never part of an address someone types.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_BAD_EMAIL = "'email' must be an email address, e.g. ada@example.com."
_PHONE_REQUIRED = "'phoneNumber' is required."
_BAD_PHONE = f"'phoneNumber' {PHONE_RULE}"


def _too_long(name: str, limit: int) -> str:
    return f"'{name}' must be at most {limit} characters long."


def _text(fields: dict[str, Any], name: str, limit: int, errors: Errors) -> str | None:
    """An optional string field; an empty string is stored as ``null``."""
    value = fields.get(name.lower())
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors[name] = [f"'{name}' must be a string or null."]
        return None
    if len(value) > limit:
        errors[name] = [_too_long(name, limit)]
        return None
    return value


def _custom(fields: dict[str, Any], errors: Errors) -> dict[str, str]:
    raw = fields.get("custom")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors["custom"] = ["'custom' must be an object whose values are strings."]
        return {}
    custom: dict[str, str] = {}
    for key, value in raw.items():
        if key == "":
            errors["custom"] = ["'custom' keys must not be empty."]
        elif isinstance(value, str):
            custom[key] = value
        elif value is not None:  # a null value is the same as leaving the key out
            errors[f"custom.{key}"] = [f"'custom.{key}' must be a string."]
    return custom


def contact_draft(body: Any) -> ContactDraft | Errors:
    """A contact JSON object (property names in any case), checked field by field."""
    if not isinstance(body, dict):
        return {"$": ["A contact must be a JSON object."]}
    fields = lowercase_keys(body)
    errors: Errors = {}
    raw_phone = fields.get("phonenumber")
    phone: str | None = None
    if raw_phone is None or raw_phone == "":
        errors["phoneNumber"] = [_PHONE_REQUIRED]
    elif not isinstance(raw_phone, str) or (phone := normalize_phone(raw_phone)) is None:
        errors["phoneNumber"] = [_BAD_PHONE]
    first_name = _text(fields, "firstName", MAX_NAME_LENGTH, errors)
    last_name = _text(fields, "lastName", MAX_NAME_LENGTH, errors)
    email = _text(fields, "email", MAX_EMAIL_LENGTH, errors)
    if email is not None and _EMAIL.fullmatch(email) is None:
        errors["email"] = [_BAD_EMAIL]
    custom = _custom(fields, errors)
    opted_out = fields.get("optedout")
    if opted_out is not None and not isinstance(opted_out, bool):
        errors["optedOut"] = ["'optedOut' must be true or false."]
    if errors or phone is None:
        return errors
    return ContactDraft(phone, first_name, last_name, email, custom, opted_out)


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """Where each contact field sits in a CSV row; every other column goes to custom."""

    phone: int
    first_name: int | None
    last_name: int | None
    email: int | None
    custom: tuple[tuple[int, str], ...]  # (column, custom key as the header spells it)


def csv_layout(header: list[str]) -> CsvLayout | None:
    """The layout of a header (names in any case); ``None`` without a phoneNumber column."""
    positions: dict[str, int] = {}
    custom: list[tuple[int, str]] = []
    for column, name in enumerate(header):
        lowered = name.lower()
        if lowered in ("phonenumber", "firstname", "lastname", "email"):
            positions[lowered] = column
        else:
            custom.append((column, name))
    if "phonenumber" not in positions:
        return None
    return CsvLayout(
        positions["phonenumber"],
        positions.get("firstname"),
        positions.get("lastname"),
        positions.get("email"),
        tuple(custom),
    )


def _cell(row: list[str], column: int | None, name: str, limit: int, errors: Errors) -> str | None:
    if column is None or not row[column]:
        return None
    value = row[column]
    if len(value) > limit:
        errors[name] = [_too_long(name, limit)]
        return None
    return value


def csv_draft(layout: CsvLayout, row: list[str]) -> ContactDraft | Errors:
    """A CSV data row, checked as ``contact_draft`` checks a body.

    Empty cells count as absent, so ``{custom.NAME}`` of an empty cell is empty too.
    """
    errors: Errors = {}
    raw_phone = row[layout.phone]
    phone = normalize_phone(raw_phone) if raw_phone else None
    if phone is None:
        errors["phoneNumber"] = [_BAD_PHONE if raw_phone else _PHONE_REQUIRED]
    first_name = _cell(row, layout.first_name, "firstName", MAX_NAME_LENGTH, errors)
    last_name = _cell(row, layout.last_name, "lastName", MAX_NAME_LENGTH, errors)
    email = _cell(row, layout.email, "email", MAX_EMAIL_LENGTH, errors)
    if email is not None and _EMAIL.fullmatch(email) is None:
        errors["email"] = [_BAD_EMAIL]
    if errors or phone is None:
        return errors
    custom = {key: row[column] for column, key in layout.custom if row[column]}
    return ContactDraft(phone, first_name, last_name, email, custom)
