"""Scenario files: what happens to each message after it is accepted, and who replies.

A scenario is a YAML (or JSON) file in the format of API.md section 7. The package reads
one into frozen, typed models (:class:`Scenario` and its parts), reporting every
mistake of a file at once, each with its line and its path (``rules[0].lifecycle[1].status``),
and answers the two questions the engine asks: which lifecycle does this message follow,
and does anyone reply to it.

- :mod:`.model`: the scenario, its rules and lifecycles, and how a message is matched;
- :mod:`.errors`: :class:`ScenarioError` and its problems (line, path, reason);
- :mod:`.reader`: text -> :class:`Scenario`, on :mod:`.nodes` (YAML nodes -> checked values);
- :mod:`.catalog`: the shipped scenarios, :func:`load_scenario` by name or path.
- carrier realism: :mod:`.distributions` (delays drawn per message, and the per-message
  draws), :mod:`.prefixes` (``byPrefix``: outcomes per number prefix, longest wins),
  :mod:`.replay` (recorded lifecycles replayed in order), read by :mod:`.realism`.

Decisions the contract leaves open:

- A lifecycle starts from ``Accepted`` and every step must change the status: a step may
  not be ``Scheduled`` (only a send with ``sendAt`` is scheduled, before its lifecycle
  starts), may not repeat the status the message already has (so the first step is not
  ``Accepted``), and may not follow a final status.
- ``toPattern`` and ``contentPattern`` are searched (``re.search``), so anchor them with
  ``^...$`` to match a whole value; ``toPattern`` sees ``to`` without ``+``. ``from`` is
  compared exactly.
- An optional key set to null is the same as a key left out (``rules:`` with nothing
  under it is no rules).
- ``to``, ``toPrefix`` and ``from`` may be written unquoted (``to: 447700900001``): their
  text is used as written, never as a YAML number. ``content`` must be a string; an
  unquoted ``YES`` is a YAML boolean and is reported, with the advice to quote it.
- ``load_scenario`` prefers a shipped scenario when the argument is exactly a shipped name.
- Every draw of a message (its outcome, drawn delays, its reply's delay) comes from a
  mix of the seed, the recipient and how many messages that recipient had before since
  the scenario became active or the last reset: repeatable whatever the order of
  concurrent requests. ``replay`` is consulted before the rules; a used-up recording
  hands its messages to the rules unless ``then: cycle``. A ``byPrefix`` rule matches
  only recipients with one of its prefixes. A ``max`` below a distribution's median, a
  tail not above it and weights over 1e9 are mistakes.
"""

from mock_puresms.simulation.scenarios.catalog import (
    ShippedScenario,
    load_scenario,
    shipped_scenarios,
)
from mock_puresms.simulation.scenarios.errors import Problem, ScenarioError, UnknownScenarioError
from mock_puresms.simulation.scenarios.model import (
    DEFAULT_LIFECYCLE,
    DEFAULT_RULE,
    Lifecycle,
    Match,
    MessageFacts,
    Outcome,
    ReplyRule,
    Rule,
    Scenario,
    Step,
)
from mock_puresms.simulation.scenarios.reader import parse_scenario

__all__ = [
    "DEFAULT_LIFECYCLE",
    "DEFAULT_RULE",
    "Lifecycle",
    "Match",
    "MessageFacts",
    "Outcome",
    "Problem",
    "ReplyRule",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ShippedScenario",
    "Step",
    "UnknownScenarioError",
    "load_scenario",
    "parse_scenario",
    "shipped_scenarios",
]
