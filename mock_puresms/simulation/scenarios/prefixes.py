"""Outcomes per number prefix: a rule's ``byPrefix`` table, longest prefix wins.

::

    lifecycles:
      delivered: [{status: Enroute, after: 400ms}, {status: Delivered, after: 3s}]
      expired: [{status: Enroute, after: 1s}, {status: Expired, after: 24h}]
    rules:
      - name: carriers
        match: {}
        byPrefix:
          "447": {delivered: 97, expired: 3}    # weights by named lifecycle
          "4478": {delivered: 90, expired: 10}  # longer: wins over "447"
          "1": delivered                        # one named lifecycle

A recipient that starts with none of the prefixes does not match the rule: the next
rule (or ``default``) decides its fate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_puresms.simulation.scenarios.model import Rule


@dataclass(frozen=True, slots=True)
class PrefixTable:
    """Each prefix (digits, no ``+``) and the rule of weighted outcomes it draws from."""

    entries: tuple[tuple[str, Rule], ...]
    _by_prefix: dict[str, Rule] = field(init=False, repr=False, compare=False)
    _longest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_prefix", dict(self.entries))
        object.__setattr__(self, "_longest", max((len(p) for p, _ in self.entries), default=0))

    def __hash__(self) -> int:
        return hash(self.entries)

    def rule_for(self, to: str) -> Rule | None:
        """The outcomes of the longest prefix ``to`` starts with, if any."""
        by_prefix = self._by_prefix
        for size in range(min(len(to), self._longest), 0, -1):
            rule = by_prefix.get(to[:size])
            if rule is not None:
                return rule
        return None
