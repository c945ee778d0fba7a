"""Domain failures the surfaces translate into problem responses."""

from __future__ import annotations


class NotFound(Exception):
    """No such resource in the caller's account (another account's is not found either)."""


class Conflict(Exception):
    """The resource is not in a state that allows the change."""
