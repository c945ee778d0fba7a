"""Webhook chaos: what a scenario's ``webhooks:`` section (or an account's setting) asks
the dispatcher to do to webhook POSTs on purpose, and how that section is read.

```yaml
webhooks:
  seed: 7                      # optional: else the scenario's seed, else 0
  chaos:                       # each rule on its own; a POST may get several kinds
    - {kind: duplicate, probability: 0.1, after: 30s}
    - {kind: delay, next: 3, after: {min: 1s, max: 2m}}
    - {kind: reorder, probability: 0.2, within: 10s}
    - {kind: badSignature, probability: 0.05}
    - {kind: staleSignature, next: 1, age: 10m}
    - {kind: missingSignature, next: 1}
```

Each rule fires with a ``probability`` (0 to 1) or for the ``next`` N deliveries it can
apply to. The mechanics live in :mod:`mock_puresms.webhooks.chaos`; this module only
holds the frozen model and reads it with a :class:`.NodeReader`, so every mistake names
its line and path like the rest of a scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from mock_puresms.simulation.scenarios.errors import ROOT
from mock_puresms.simulation.scenarios.nodes import NodeReader, join, listing

DUPLICATE, DELAY, REORDER = "duplicate", "delay", "reorder"
BAD_SIGNATURE, STALE_SIGNATURE, MISSING_SIGNATURE = (
    "badSignature",
    "staleSignature",
    "missingSignature",
)
SIGNATURE_KINDS = (BAD_SIGNATURE, STALE_SIGNATURE, MISSING_SIGNATURE)
KINDS = (DUPLICATE, DELAY, REORDER, *SIGNATURE_KINDS)

# The keys each kind takes besides ``kind``, ``probability`` and ``next``.
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    DUPLICATE: ("after",),
    DELAY: ("after",),
    REORDER: ("within",),
    BAD_SIGNATURE: (),
    STALE_SIGNATURE: ("age",),
    MISSING_SIGNATURE: (),
}
_SECTION_KEYS = ("seed", "chaos")
_TRIGGER_KEYS = ("kind", "probability", "next")
_SPAN_KEYS = ("min", "max")

DEFAULT_DUPLICATE_AFTER_MS = 1_000
DEFAULT_REORDER_WITHIN_MS = 10_000
DEFAULT_STALE_AGE_MS = 600_000
MAX_NEXT = 1_000_000


@dataclass(frozen=True, slots=True)
class Span:
    """A duration, fixed (``low == high``) or drawn uniformly from ``low..high`` ms."""

    low_ms: int
    high_ms: int

    def to_json(self) -> str | dict[str, str]:
        if self.low_ms == self.high_ms:
            return format_duration(self.low_ms)
        return {"min": format_duration(self.low_ms), "max": format_duration(self.high_ms)}


@dataclass(frozen=True, slots=True)
class ChaosRule:
    """One kind of chaos and when it fires: with ``probability``, or for the ``next`` N
    deliveries it can apply to (exactly one of the two is set).

    ``after``: how long a ``delay`` holds a POST back, or how long after a received POST
    its ``duplicate`` comes. ``within``: the longest a ``reorder`` holds a POST while it
    waits to be overtaken. ``age_ms``: how old a ``staleSignature``'s timestamp is.
    """

    kind: str
    probability: float | None = None
    next: int | None = None
    after: Span | None = None
    within_ms: int | None = None
    age_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind}
        if self.probability is not None:
            body["probability"] = self.probability
        if self.next is not None:
            body["next"] = self.next
        if self.after is not None:
            body["after"] = self.after.to_json()
        if self.within_ms is not None:
            body["within"] = format_duration(self.within_ms)
        if self.age_ms is not None:
            body["age"] = format_duration(self.age_ms)
        return body


@dataclass(frozen=True, slots=True)
class WebhookChaos:
    """A ``webhooks:`` section: the chaos rules and the seed their draws come from."""

    seed: int | None
    rules: tuple[ChaosRule, ...]

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "chaos": [rule.to_json() for rule in self.rules]}


NO_CHAOS = WebhookChaos(None, ())


def format_duration(ms: int) -> str:
    """Milliseconds in the largest whole unit: ``120000`` -> ``2m``."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def read_webhooks(reader: NodeReader, node: Node, path: str) -> WebhookChaos | None:
    """The ``webhooks:`` section at ``path`` (``ROOT`` for a bare control-surface body)."""
    fields = reader.fields(node, path, _SECTION_KEYS)
    if fields is None:
        return None
    before = len(reader.problems)
    seed = None
    if "seed" in fields:
        seed = reader.integer(fields["seed"].value, join(path, "seed"))
    rules: list[ChaosRule | None] = []
    if "chaos" in fields:
        where = join(path, "chaos")
        items = reader.sequence(fields["chaos"].value, where, "a list of chaos rules")
        rules = [_rule(reader, item, f"{where}[{i}]") for i, item in enumerate(items)]
    if len(reader.problems) > before:
        return None
    return WebhookChaos(seed, tuple(rule for rule in rules if rule is not None))


def _rule(reader: NodeReader, node: Node, path: str) -> ChaosRule | None:
    kind = _kind_of(reader, node, path)
    if kind is None:
        return None
    extra = _KIND_KEYS[kind]
    fields = reader.fields(node, path, (*_TRIGGER_KEYS, *extra), required=("kind",))
    if fields is None:
        return None
    before = len(reader.problems)
    probability = next_n = None
    if "probability" in fields and "next" in fields:
        later = max(fields["probability"].key, fields["next"].key, key=_line)
        reader.problem(later, path, "give either 'probability' or 'next', not both")
    elif "probability" in fields:
        probability = _probability(reader, fields["probability"].value, join(path, "probability"))
    elif "next" in fields:
        next_n = _count(reader, fields["next"].value, join(path, "next"))
    else:
        reader.problem(
            node,
            join(path, "probability"),
            "missing: give 'probability' (0 to 1) or 'next' (how many deliveries)",
        )
    after = within = age = None
    if "after" in fields:
        after = _span(reader, fields["after"].value, join(path, "after"))
    elif kind == DELAY:
        reader.problem(node, join(path, "after"), "required key 'after' is missing: how long")
    elif kind == DUPLICATE:
        after = Span(DEFAULT_DUPLICATE_AFTER_MS, DEFAULT_DUPLICATE_AFTER_MS)
    if kind == REORDER:
        within = DEFAULT_REORDER_WITHIN_MS
        if "within" in fields:
            within = reader.duration(fields["within"].value, join(path, "within"))
    if kind == STALE_SIGNATURE:
        age = DEFAULT_STALE_AGE_MS
        if "age" in fields:
            age = reader.duration(fields["age"].value, join(path, "age"))
            if age is not None and age < 1_000:
                reader.problem(fields["age"].value, join(path, "age"), "must be at least 1s")
    if len(reader.problems) > before:
        return None
    return ChaosRule(kind, probability, next_n, after, within, age)


def _kind_of(reader: NodeReader, node: Node, path: str) -> str | None:
    """The rule's ``kind``, read first: it decides which other keys are allowed."""
    if not isinstance(node, MappingNode):
        reader.fields(node, path, _TRIGGER_KEYS)  # says it must be a mapping
        return None
    value = reader.field_node(node, "kind")
    if value is node:
        reason = f"required key 'kind' is missing: one of {listing(KINDS)}"
        reader.problem(node, join(path, "kind"), reason)
        return None
    kind = reader.text(value, join(path, "kind"))
    if kind is None:
        return None
    if kind not in KINDS:
        reason = f"unknown kind {kind!r}: one of {listing(KINDS)}"
        reader.problem(value, join(path, "kind"), reason)
        return None
    return kind


def _probability(reader: NodeReader, node: Node, path: str) -> float | None:
    value = _number(node)
    if value is None or not (math.isfinite(value) and 0 <= value <= 1):
        reader.problem(node, path, "must be a number from 0 to 1")
        return None
    return value


def _count(reader: NodeReader, node: Node, path: str) -> int | None:
    value = reader.integer(node, path)
    if value is not None and not 1 <= value <= MAX_NEXT:
        reader.problem(node, path, f"must be a whole number from 1 to {MAX_NEXT}")
        return None
    return value


def _span(reader: NodeReader, node: Node, path: str) -> Span | None:
    """``after: 2m`` (fixed) or ``after: {min: 1s, max: 2m}`` (uniform in the range)."""
    if not isinstance(node, MappingNode):
        fixed = reader.duration(node, path)
        return Span(fixed, fixed) if fixed is not None else None
    fields = reader.fields(node, path, _SPAN_KEYS, required=_SPAN_KEYS)
    if fields is None or len(fields) < 2:
        return None
    low = reader.duration(fields["min"].value, join(path, "min"))
    high = reader.duration(fields["max"].value, join(path, "max"))
    if low is None or high is None:
        return None
    if high < low:
        reader.problem(fields["max"].value, join(path, "max"), "must not be less than 'min'")
        return None
    return Span(low, high)


def _number(node: Node) -> float | None:
    if not isinstance(node, ScalarNode) or node.tag not in (
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        return None
    try:
        return float(str(node.value).replace("_", ""))
    except ValueError:
        return None


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1 if node.start_mark else 0


__all__ = [
    "KINDS",
    "NO_CHAOS",
    "ROOT",
    "SIGNATURE_KINDS",
    "ChaosRule",
    "Span",
    "WebhookChaos",
    "read_webhooks",
]
