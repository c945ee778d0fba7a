"""Filling SendToGroup ``content`` placeholders with each contact's fields."""

from __future__ import annotations

import re

from mock_puresms.domain.contacts import Contact

# The field names are matched in any case, like v1 property names; a custom NAME is
# matched exactly, since custom keys are the user's own strings. Anything else in
# braces ("{code}", "{") is ordinary text and stays as written.
_PLACEHOLDER = re.compile(r"\{(?i:(firstName|lastName|phoneNumber)|custom\.([^{}]+))\}")


def has_placeholders(content: str) -> bool:
    return _PLACEHOLDER.search(content) is not None


def fill(content: str, contact: Contact) -> str:
    """``content`` with every placeholder replaced; a missing value becomes empty."""

    def value(match: re.Match[str]) -> str:
        field, custom = match.group(1), match.group(2)
        if custom is not None:
            return contact.custom.get(custom, "")
        name = field.lower()
        if name == "firstname":
            return contact.first_name or ""
        if name == "lastname":
            return contact.last_name or ""
        return contact.phone_number

    return _PLACEHOLDER.sub(value, content)
