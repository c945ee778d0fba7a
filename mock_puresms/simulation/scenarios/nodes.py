"""Reading YAML nodes into checked values, recording a problem at the node instead of stopping.

:class:`NodeReader` knows mappings (allowed and required keys, merge keys, duplicates),
lists and the scalars a scenario file holds (strings, phone numbers, senders, patterns,
integers, booleans, weights, statuses, durations). The scenario's structure is read on
top of it, in :mod:`.reader`. Reading the composed nodes, not PyYAML's plain values,
is what lets every problem name its line.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.durations import parse_duration
from mock_puresms.simulation.scenarios.errors import ROOT, Problem

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + kind for kind in ("str", "int", "float", "bool", "null"))
_MERGE = _TAG + "merge"
_KINDS = {
    _STR: "a string",
    _INT: "an integer",
    _FLOAT: "a number",
    _BOOL: "a boolean",
    _NULL: "null",
    _TAG + "timestamp": "a date",
    _TAG + "binary": "binary data",
}
_DIGITS = re.compile(r"[0-9]+")
_CONSTRUCTOR = SafeConstructor()
_T = TypeVar("_T")
MAX_WEIGHT = 1_000_000_000
"""The largest weight of an outcome."""


class Entry(NamedTuple):
    """One key of a mapping and its value, as nodes."""

    key: Node
    value: Node


class NodeReader:
    """Reads nodes, collecting every problem instead of stopping at one.

    Each method returns the value read, or None after recording why it could not.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, path: str, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        self.problems.append(Problem(path, line, reason))

    # -- mappings and lists

    def fields(
        self, node: Node, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Entry] | None:
        """The mapping's entries by key, after checking keys; None when it is no mapping.

        Optional keys whose value is null are left out, as if absent.
        """
        if not isinstance(node, MappingNode):
            self.problem(
                node, path, f"must be a mapping with keys {listing(allowed)}, got {_kind(node)}"
            )
            return None
        fields: dict[str, Entry] = {}
        own: set[str] = set()
        for key, value, is_own in self.entries(node, path, frozenset()):
            if not isinstance(key, ScalarNode):
                self.problem(key, path, f"a key must be a string, got {_kind(key)}")
                continue
            name = str(key.value)
            if name not in allowed:
                self.problem(key, join(path, name), _unknown_key(name, allowed))
                continue
            if is_own and name in own:
                first = line_of(fields[name].key)
                self.problem(
                    key, join(path, name), f"duplicate key '{name}' (first on line {first})"
                )
            if is_own:
                own.add(name)
            fields[name] = Entry(key, value)
        for name in required:
            if name not in fields:
                self.problem(node, join(path, name), f"required key '{name}' is missing")
        return {
            name: entry
            for name, entry in fields.items()
            if name in required
            or not (isinstance(entry.value, ScalarNode) and entry.value.tag == _NULL)
        }

    def entries(
        self, node: MappingNode, path: str, seen: frozenset[int]
    ) -> list[tuple[Node, Node, bool]]:
        """The (key, value, own) triples of a mapping, with merge keys (``<<: *x``) expanded.

        Later triples win, as in PyYAML: merged ones first, the mapping's own ones last,
        and of several merged mappings the first listed wins.
        """
        merged: list[tuple[Node, Node, bool]] = []
        own: list[tuple[Node, Node, bool]] = []
        for key, value in node.value:
            if not (isinstance(key, ScalarNode) and key.tag == _MERGE):
                own.append((key, value, True))
                continue
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in reversed(sources):
                if not isinstance(source, MappingNode) or id(source) in seen | {id(node)}:
                    self.problem(source, path, "'<<' must merge a mapping or a list of mappings")
                    continue
                for k, v, _ in self.entries(source, path, seen | {id(node)}):
                    merged.append((k, v, False))
        return merged + own

    def field_node(self, node: Node, name: str) -> Node:
        """The value node of key ``name`` in a mapping node (for pointing at it)."""
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == name:
                    return value  # type: ignore[no-any-return]
        return node

    def sequence(self, node: Node, path: str, what: str, *, non_empty: bool = False) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problem(node, path, f"must be {what}, got {_kind(node)}")
            return []
        items: list[Node] = node.value
        if non_empty and not items:
            self.problem(node, path, f"must not be empty: give {what}")
        return items

    # -- scalars

    def text(self, node: Node, path: str, *, non_empty: bool = False) -> str | None:
        if not _is_scalar(node, _STR):
            hint = ""
            if isinstance(node, ScalarNode) and node.tag in (_BOOL, _INT, _FLOAT):
                kind = _KINDS[node.tag]
                hint = f'; YAML reads an unquoted {node.value} as {kind}: write "{node.value}"'
            self.problem(node, path, f"must be a string, got {_kind(node)}{hint}")
            return None
        value = str(node.value)
        if non_empty and not value.strip():
            self.problem(node, path, "must not be empty")
            return None
        return value

    def number(self, node: Node, path: str, *, min_digits: int) -> str | None:
        """A phone number or prefix: digits as written, with an optional leading '+' dropped."""
        if not (_is_scalar(node, _STR) or _is_scalar(node, _INT)):
            self.problem(node, path, f"must be a phone number as digits, got {_kind(node)}")
            return None
        raw = str(node.value)
        digits = raw.removeprefix("+")
        if not _DIGITS.fullmatch(digits) or not min_digits <= len(digits) <= 15:
            size = "7 to 15" if min_digits == 7 else f"{min_digits} to 15"
            self.problem(node, path, f"{raw!r} must be {size} digits, optionally prefixed by '+'")
            return None
        return digits

    def sender(self, node: Node, path: str) -> str | None:
        if not (_is_scalar(node, _STR) or _is_scalar(node, _INT)):
            self.problem(node, path, f"must be a sender name or number, got {_kind(node)}")
            return None
        value = str(node.value)
        if not value:
            self.problem(node, path, "must not be empty")
            return None
        return value

    def pattern(self, node: Node, path: str) -> re.Pattern[str] | None:
        if not _is_scalar(node, _STR):
            self.problem(node, path, f"must be a regular expression (a string), got {_kind(node)}")
            return None
        try:
            return re.compile(str(node.value))
        except re.error as error:
            self.problem(node, path, f"invalid regular expression {node.value!r}: {error}")
            return None

    def integer(self, node: Node, path: str) -> int | None:
        """A whole number that fits in 64 bits (signed), as JSON readers and SQLite hold it."""
        if not _is_scalar(node, _INT):
            self.problem(node, path, f"must be an integer, got {_kind(node)}")
            return None
        value = self.construct(node, path, _CONSTRUCTOR.construct_yaml_int)
        if value is not None and not -(2**63) <= value < 2**63:
            self.problem(node, path, f"must be a whole number from {-(2**63)} to {2**63 - 1}")
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        if not _is_scalar(node, _BOOL):
            self.problem(node, path, f"must be true or false, got {_kind(node)}")
            return None
        return self.construct(node, path, _CONSTRUCTOR.construct_yaml_bool)

    def weight(self, node: Node, path: str) -> float | None:
        value: float | None = None
        if _is_scalar(node, _INT):
            value = self.construct(node, path, _CONSTRUCTOR.construct_yaml_int)
        elif _is_scalar(node, _FLOAT):
            value = self.construct(node, path, _CONSTRUCTOR.construct_yaml_float)
        else:
            self.problem(node, path, f"must be a positive number, got {_kind(node)}")
            return None
        if value is None:
            return None
        if not (math.isfinite(value) and value > 0):
            self.problem(node, path, f"must be a positive number, got {node.value}")
            return None
        if value > MAX_WEIGHT:
            # Beyond it a sum of weights can round away the small ones, or overflow.
            self.problem(
                node,
                path,
                f"must be at most {MAX_WEIGHT:,}: weights are relative "
                "(98 and 2 mean 98 % and 2 %)",
            )
            return None
        return float(value)

    def status(self, node: Node, path: str) -> DeliveryStatus | None:
        if not (_is_scalar(node, _STR) or _is_scalar(node, _INT)):
            self.problem(node, path, f"must be a delivery status name or code, got {_kind(node)}")
            return None
        try:
            status = DeliveryStatus.parse(str(node.value))
        except ValueError as error:
            self.problem(node, path, f"unknown status {node.value!r}: {error}")
            return None
        if status is DeliveryStatus.SCHEDULED:
            self.problem(
                node,
                path,
                "a lifecycle starts once the message is Accepted, so no step may be Scheduled",
            )
            return None
        return status

    def duration(self, node: Node, path: str) -> int | None:
        if _is_scalar(node, _STR):
            raw: str | int | float | None = str(node.value)
        elif _is_scalar(node, _INT):
            raw = self.construct(node, path, _CONSTRUCTOR.construct_yaml_int)
        elif _is_scalar(node, _FLOAT):
            raw = self.construct(node, path, _CONSTRUCTOR.construct_yaml_float)
        else:
            self.problem(
                node, path, f"must be a duration such as 250ms, 2s or 5m, got {_kind(node)}"
            )
            return None
        if raw is None:
            return None
        try:
            return parse_duration(raw)
        except ValueError as error:
            self.problem(node, path, str(error))
            return None

    def construct(self, node: Node, path: str, construct: Callable[[ScalarNode], _T]) -> _T | None:
        if not isinstance(node, ScalarNode):  # pragma: no cover - callers check
            return None
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        if node.tag == _INT and len(node.value) > 100:
            # Python will not read an int of more than 4,300 digits; no value here needs 100.
            self.problem(node, path, f"{shown!r} has too many digits")
            return None
        # An explicit tag (`!!int abc`) can name a type its text is not.
        try:
            return construct(node)
        except (ValueError, yaml.YAMLError) as error:
            self.problem(node, path, f"cannot read {shown!r}: {error}")
            return None


def _is_scalar(node: Node, tag: str) -> bool:
    return isinstance(node, ScalarNode) and node.tag == tag


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = _KINDS.get(node.tag, f"a value tagged {node.tag}")
    if node.tag in (_STR, _INT, _FLOAT, _BOOL):
        return f"{kind} ({node.value!r})" if node.tag == _STR else f"{kind} ({node.value})"
    return kind


def line_of(node: Node) -> int:
    """The 1-based line a node starts on (0 when unknown)."""
    return int(node.start_mark.line) + 1 if node.start_mark else 0


def join(path: str, key: str) -> str:
    """The path of ``key`` inside the mapping at ``path`` (``rules[0].match``)."""
    return key if path == ROOT else f"{path}.{key}"


def listing(names: tuple[str, ...]) -> str:
    """Key names as a problem lists them: ``name, match, lifecycle``."""
    return ", ".join(names)


def _unknown_key(name: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{name}'{hint}; allowed keys: {listing(allowed)}"
