"""Scenario files: what happens to each message after it is accepted, and who replies.

A scenario is a YAML (or JSON) file in the format of API.md section 7. This module
reads one into frozen, typed models (:class:`Scenario` and its parts), reporting every
mistake of a file at once, each with its line and its path (``rules[0].lifecycle[1].status``),
and answers the two questions the engine asks: which lifecycle does this message follow,
and does anyone reply to it.

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
"""

from __future__ import annotations

import difflib
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePath
from typing import NamedTuple, Protocol, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.durations import parse_duration

# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class Step:
    """One status change of a lifecycle, ``after_ms`` after the previous one."""

    status: DeliveryStatus
    after_ms: int


Lifecycle = tuple[Step, ...]
"""The status changes a message goes through after it is accepted, in order."""


class MessageFacts(Protocol):
    """What rules match on; the engine's message has these attributes.

    Declared as read-only properties so that frozen dataclasses satisfy it too.
    """

    @property
    def to(self) -> str:
        """The recipient, digits only (no ``+``)."""
        ...

    @property
    def sender(self) -> str:
        """The message's ``from``."""
        ...

    @property
    def content(self) -> str:
        """The text of the message."""
        ...

    @property
    def is_test(self) -> bool:
        """Whether the message was sent in test mode."""
        ...


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions on a message, all optional and combined with AND; none matches anything."""

    to: str | None = None
    to_prefix: str | None = None
    to_pattern: re.Pattern[str] | None = None
    sender: str | None = None
    content_pattern: re.Pattern[str] | None = None
    is_test: bool | None = None

    def matches(self, message: MessageFacts) -> bool:
        """Whether the message meets every condition given."""
        if self.to is not None and message.to != self.to:
            return False
        if self.to_prefix is not None and not message.to.startswith(self.to_prefix):
            return False
        if self.to_pattern is not None and self.to_pattern.search(message.to) is None:
            return False
        if self.sender is not None and message.sender != self.sender:
            return False
        if (
            self.content_pattern is not None
            and self.content_pattern.search(message.content) is None
        ):
            return False
        return self.is_test is None or message.is_test == self.is_test


@dataclass(frozen=True, slots=True)
class Outcome:
    """A lifecycle and its relative weight among a rule's outcomes."""

    weight: float
    lifecycle: Lifecycle


@dataclass(frozen=True, slots=True)
class Rule:
    """Messages that match follow one of the outcomes; a fixed lifecycle is one outcome."""

    name: str | None
    match: Match
    outcomes: tuple[Outcome, ...]

    def draw(self, rng: random.Random) -> Lifecycle:
        """Pick the lifecycle of one message: one ``rng.random()`` call, or none for one outcome."""
        if len(self.outcomes) == 1:
            return self.outcomes[0].lifecycle
        point = rng.random() * sum(outcome.weight for outcome in self.outcomes)
        for outcome in self.outcomes:
            point -= outcome.weight
            if point < 0:
                return outcome.lifecycle
        return self.outcomes[-1].lifecycle  # only reachable through float rounding


@dataclass(frozen=True, slots=True)
class ReplyRule:
    """A scripted reply: ``content`` arrives ``after_ms`` after a matching message is delivered."""

    match: Match
    after_ms: int
    content: str


DEFAULT_LIFECYCLE: Lifecycle = (
    Step(DeliveryStatus.ENROUTE, 1_000),
    Step(DeliveryStatus.DELIVERED, 2_000),
)
"""What a scenario without ``default`` does to messages no rule matched."""

DEFAULT_RULE = Rule(name="default", match=Match(), outcomes=(Outcome(1.0, DEFAULT_LIFECYCLE),))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed scenario file; ``source`` is the text it was read from."""

    name: str
    description: str
    seed: int | None
    source: str
    rules: tuple[Rule, ...]
    default: Rule
    replies: tuple[ReplyRule, ...]
    # Rules worth trying per exact recipient, in file order: a rule that names one `to`
    # can only match that number, so magic-number rules cost one dict lookup.
    _rules_by_to: dict[str, tuple[Rule, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _rules_for_others: tuple[Rule, ...] = field(init=False, repr=False, compare=False, default=())
    common_lifecycle: Lifecycle | None = field(init=False, repr=False, compare=False, default=None)
    """The fate of every message whose recipient no rule names, when that needs no
    matching and no draw: no rule or reply rule without a ``to``, one default outcome.
    A bulk send then plans only the named recipients one by one."""
    named_recipients: frozenset[str] = field(
        init=False, repr=False, compare=False, default=frozenset()
    )
    """Every ``to`` a rule or a reply rule names."""

    def __post_init__(self) -> None:
        general = tuple(rule for rule in self.rules if rule.match.to is None)
        by_to = {
            to: tuple(r for r in self.rules if r.match.to is None or r.match.to == to)
            for to in {rule.match.to for rule in self.rules if rule.match.to is not None}
        }
        object.__setattr__(self, "_rules_by_to", by_to)
        object.__setattr__(self, "_rules_for_others", general)
        reply_recipients = {reply.match.to for reply in self.replies}
        if not general and None not in reply_recipients and len(self.default.outcomes) == 1:
            object.__setattr__(self, "common_lifecycle", self.default.outcomes[0].lifecycle)
        named = {to for to in reply_recipients if to is not None} | by_to.keys()
        object.__setattr__(self, "named_recipients", frozenset(named))

    def rule_for(self, message: MessageFacts) -> Rule:
        """The first rule the message matches, else the default rule."""
        for rule in self._rules_by_to.get(message.to, self._rules_for_others):
            if rule.match.matches(message):
                return rule
        return self.default

    def lifecycle_for(self, message: MessageFacts, rng: random.Random) -> Lifecycle:
        """The lifecycle of a newly accepted message.

        A rule with several outcomes draws one weighted choice with a single
        ``rng.random()`` call, so the same seed and the same sequence of messages give
        the same outcomes; a rule with one outcome leaves ``rng`` untouched.
        """
        return self.rule_for(message).draw(rng)

    def reply_for(self, message: MessageFacts) -> ReplyRule | None:
        """The first reply rule the message matches, if any."""
        for reply in self.replies:
            if reply.match.matches(message):
                return reply
        return None

    def new_rng(self) -> random.Random:
        """A fresh random generator seeded with ``seed`` (from the OS when there is none)."""
        return random.Random(self.seed)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a scenario file: where (path and 1-based line) and why."""

    path: str
    line: int | None
    reason: str

    def format(self, source_name: str) -> str:
        """``FILE:LINE: path: reason``, the way compilers report."""
        where = source_name if self.line is None else f"{source_name}:{self.line}"
        return f"{where}: {self.path}: {self.reason}"


class ScenarioError(ValueError):
    """A scenario file is invalid; ``problems`` lists every mistake, in line order."""

    def __init__(self, problems: list[Problem], *, source_name: str = "<scenario>") -> None:
        self.problems = problems
        self.source_name = source_name
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(problem.format(self.source_name) for problem in self.problems)


class UnknownScenarioError(ScenarioError):
    """``load_scenario`` was given neither a shipped scenario's name nor a file.

    A :class:`ScenarioError` (with one problem) so that one ``except`` covers both.
    """

    def __init__(self, message: str, *, source_name: str) -> None:
        self.message = message
        super().__init__([Problem(_ROOT, None, message)], source_name=source_name)

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- parsing

_ROOT = "$"
_TOP_KEYS = ("name", "description", "seed", "rules", "default", "replies")
_RULE_KEYS = ("name", "match", "lifecycle", "outcomes")
_DEFAULT_KEYS = ("lifecycle", "outcomes")
_OUTCOME_KEYS = ("weight", "lifecycle")
_STEP_KEYS = ("status", "after")
_REPLY_KEYS = ("match", "after", "content")
_MATCH_KEYS = ("to", "toPrefix", "toPattern", "from", "contentPattern", "isTest")

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


def parse_scenario(text: str, *, source_name: str = "<scenario>") -> Scenario:
    """Read a scenario from YAML or JSON text.

    ``source_name`` names the text in problems, and its stem is the scenario's name when
    the file gives none. Raises :class:`ScenarioError` listing every mistake.
    """
    root = _compose(text, source_name)
    reader = _Reader()
    scenario = reader.scenario(root, text, _default_name(source_name))
    if reader.problems or scenario is None:
        problems = sorted(reader.problems, key=lambda p: p.line if p.line is not None else 0)
        raise ScenarioError(problems, source_name=source_name)
    return scenario


def _default_name(source_name: str) -> str:
    return PurePath(source_name).stem.strip("<>") or "scenario"


def _compose(text: str, source_name: str) -> Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        # JSON allows tabs between tokens, YAML does not. In valid JSON a tab can only be
        # such whitespace (tabs in strings must be escaped), so spaces are a safe swap.
        if "\t" in text and _is_json(text):
            return _compose(text.replace("\t", " "), source_name)
        raise ScenarioError([_syntax_problem(error, text)], source_name=source_name) from None
    if root is None:
        problem = Problem(
            _ROOT, 1, "the file is empty: a scenario is a mapping with keys " + _list(_TOP_KEYS)
        )
        raise ScenarioError([problem], source_name=source_name)
    return root


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _syntax_problem(error: yaml.YAMLError, text: str) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = error.problem or error.context or "cannot be read"
        if error.context and error.problem:
            context_line = error.context_mark.line + 1 if error.context_mark else None
            where = f" on line {context_line}" if context_line not in (None, line) else ""
            reason = f"{error.context}{where}: {error.problem}"
        return Problem(_ROOT, line, f"invalid YAML: {reason}")
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        character = error.character
        shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
        return Problem(_ROOT, line, f"invalid YAML: character {shown}: {error.reason}")
    return Problem(_ROOT, None, f"invalid YAML: {error}")


class _Entry(NamedTuple):
    key: Node
    value: Node


class _Reader:
    """Walks the composed node tree, collecting every problem instead of stopping at one.

    Each method returns the parsed value, or None after recording why it could not.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, path: str, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        self.problems.append(Problem(path, line, reason))

    # -- structure

    def scenario(self, node: Node, source: str, default_name: str) -> Scenario | None:
        fields = self.fields(node, _ROOT, _TOP_KEYS)
        if fields is None:
            return None
        name = default_name
        if "name" in fields:
            name = self.text(fields["name"].value, "name", non_empty=True) or name
        description = ""
        if "description" in fields:
            description = self.text(fields["description"].value, "description") or ""
        seed = self.integer(fields["seed"].value, "seed") if "seed" in fields else None
        rules: list[Rule | None] = []
        if "rules" in fields:
            items = self.sequence(fields["rules"].value, "rules", "a list of rules")
            rules = [self.rule(item, f"rules[{i}]") for i, item in enumerate(items)]
        default: Rule | None = DEFAULT_RULE
        if "default" in fields:
            default = self.default(fields["default"].value, "default")
        replies: list[ReplyRule | None] = []
        if "replies" in fields:
            items = self.sequence(fields["replies"].value, "replies", "a list of reply rules")
            replies = [self.reply(item, f"replies[{i}]") for i, item in enumerate(items)]
        if self.problems or default is None:
            return None
        return Scenario(
            name=name,
            description=description,
            seed=seed,
            source=source,
            rules=tuple(rule for rule in rules if rule is not None),
            default=default,
            replies=tuple(reply for reply in replies if reply is not None),
        )

    def rule(self, node: Node, path: str) -> Rule | None:
        fields = self.fields(node, path, _RULE_KEYS, required=("match",))
        if fields is None:
            return None
        name = self.text(fields["name"].value, _join(path, "name")) if "name" in fields else None
        match = (
            self.match(fields["match"].value, _join(path, "match")) if "match" in fields else None
        )
        outcomes = self.outcomes_of(node, fields, path)
        if match is None or outcomes is None:
            return None
        return Rule(name=name, match=match, outcomes=outcomes)

    def default(self, node: Node, path: str) -> Rule | None:
        fields = self.fields(node, path, _DEFAULT_KEYS)
        if fields is None:
            return None
        outcomes = self.outcomes_of(node, fields, path)
        if outcomes is None:
            return None
        return Rule(name="default", match=Match(), outcomes=outcomes)

    def outcomes_of(
        self, node: Node, fields: dict[str, _Entry], path: str
    ) -> tuple[Outcome, ...] | None:
        """The body of a rule: a fixed ``lifecycle`` (one outcome) or weighted ``outcomes``."""
        lifecycle = outcomes = None
        if "lifecycle" in fields:
            lifecycle = self.lifecycle(fields["lifecycle"].value, _join(path, "lifecycle"))
        if "outcomes" in fields:
            outcomes = self.outcome_list(fields["outcomes"].value, _join(path, "outcomes"))
        if "lifecycle" in fields and "outcomes" in fields:
            later = max(fields["lifecycle"].key, fields["outcomes"].key, key=_line_of)
            self.problem(later, path, "give either 'lifecycle' or 'outcomes', not both")
            return None
        if "lifecycle" not in fields and "outcomes" not in fields:
            self.problem(
                node,
                _join(path, "lifecycle"),
                "missing: give 'lifecycle' (a list of steps) or 'outcomes' (weighted lifecycles)",
            )
            return None
        if lifecycle is not None:
            return (Outcome(1.0, lifecycle),)
        return outcomes

    def outcome_list(self, node: Node, path: str) -> tuple[Outcome, ...] | None:
        items = self.sequence(node, path, "a list of {weight, lifecycle}", non_empty=True)
        outcomes = [self.outcome(item, f"{path}[{i}]") for i, item in enumerate(items)]
        if not items or any(outcome is None for outcome in outcomes):
            return None
        return tuple(outcome for outcome in outcomes if outcome is not None)

    def outcome(self, node: Node, path: str) -> Outcome | None:
        fields = self.fields(node, path, _OUTCOME_KEYS, required=_OUTCOME_KEYS)
        if fields is None:
            return None
        weight = (
            self.weight(fields["weight"].value, _join(path, "weight"))
            if "weight" in fields
            else None
        )
        lifecycle = None
        if "lifecycle" in fields:
            lifecycle = self.lifecycle(fields["lifecycle"].value, _join(path, "lifecycle"))
        if weight is None or lifecycle is None:
            return None
        return Outcome(weight, lifecycle)

    def lifecycle(self, node: Node, path: str) -> Lifecycle | None:
        items = self.sequence(node, path, "a list of {status, after} steps", non_empty=True)
        steps: list[Step] = []
        ok = bool(items)
        # None when the previous step's status is unreadable: nothing to compare with.
        previous: DeliveryStatus | None = DeliveryStatus.ACCEPTED
        went_on_after_final = False
        for i, item in enumerate(items):
            step_path = f"{path}[{i}]"
            status, after_ms = self.step(item, step_path)
            if previous is not None and previous.is_final and not went_on_after_final:
                self.problem(
                    item,
                    step_path,
                    f"the lifecycle cannot go on after {previous.label}, a final status",
                )
                ok, went_on_after_final = False, True  # one report per lifecycle is enough
            elif status is not None and status == previous:
                where = "when its lifecycle starts" if i == 0 else "after the previous step"
                self.problem(
                    self.field_node(item, "status"),
                    _join(step_path, "status"),
                    f"the message is already {status.label} {where}: "
                    "each step must change the status",
                )
                ok = False
            if status is None or after_ms is None:
                ok = False
            else:
                steps.append(Step(status, after_ms))
            previous = status
        return tuple(steps) if ok else None

    def step(self, node: Node, path: str) -> tuple[DeliveryStatus | None, int | None]:
        fields = self.fields(node, path, _STEP_KEYS, required=_STEP_KEYS)
        if fields is None:
            return None, None
        status = (
            self.status(fields["status"].value, _join(path, "status"))
            if "status" in fields
            else None
        )
        after_ms = (
            self.duration(fields["after"].value, _join(path, "after"))
            if "after" in fields
            else None
        )
        return status, after_ms

    def reply(self, node: Node, path: str) -> ReplyRule | None:
        fields = self.fields(node, path, _REPLY_KEYS, required=_REPLY_KEYS)
        if fields is None:
            return None
        match = (
            self.match(fields["match"].value, _join(path, "match")) if "match" in fields else None
        )
        after_ms = (
            self.duration(fields["after"].value, _join(path, "after"))
            if "after" in fields
            else None
        )
        content = None
        if "content" in fields:
            content = self.text(fields["content"].value, _join(path, "content"), non_empty=True)
        if match is None or after_ms is None or content is None:
            return None
        return ReplyRule(match=match, after_ms=after_ms, content=content)

    def match(self, node: Node, path: str) -> Match | None:
        fields = self.fields(node, path, _MATCH_KEYS)
        if fields is None:
            return None
        before = len(self.problems)
        to = to_prefix = sender = None
        to_pattern = content_pattern = None
        is_test = None
        if "to" in fields:
            to = self.number(fields["to"].value, _join(path, "to"), min_digits=7)
        if "toPrefix" in fields:
            to_prefix = self.number(fields["toPrefix"].value, _join(path, "toPrefix"), min_digits=1)
        if "toPattern" in fields:
            to_pattern = self.pattern(fields["toPattern"].value, _join(path, "toPattern"))
        if "from" in fields:
            sender = self.sender(fields["from"].value, _join(path, "from"))
        if "contentPattern" in fields:
            content_pattern = self.pattern(
                fields["contentPattern"].value, _join(path, "contentPattern")
            )
        if "isTest" in fields:
            is_test = self.boolean(fields["isTest"].value, _join(path, "isTest"))
        if len(self.problems) > before:
            return None
        return Match(
            to=to,
            to_prefix=to_prefix,
            to_pattern=to_pattern,
            sender=sender,
            content_pattern=content_pattern,
            is_test=is_test,
        )

    # -- mappings and lists

    def fields(
        self, node: Node, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, _Entry] | None:
        """The mapping's entries by key, after checking keys; None when it is no mapping.

        Optional keys whose value is null are left out, as if absent.
        """
        if not isinstance(node, MappingNode):
            self.problem(
                node, path, f"must be a mapping with keys {_list(allowed)}, got {_kind(node)}"
            )
            return None
        fields: dict[str, _Entry] = {}
        own: set[str] = set()
        for key, value, is_own in self.entries(node, path, frozenset()):
            if not isinstance(key, ScalarNode):
                self.problem(key, path, f"a key must be a string, got {_kind(key)}")
                continue
            name = str(key.value)
            if name not in allowed:
                self.problem(key, _join(path, name), _unknown_key(name, allowed))
                continue
            if is_own and name in own:
                first = _line_of(fields[name].key)
                self.problem(
                    key, _join(path, name), f"duplicate key '{name}' (first on line {first})"
                )
            if is_own:
                own.add(name)
            fields[name] = _Entry(key, value)
        for name in required:
            if name not in fields:
                self.problem(node, _join(path, name), f"required key '{name}' is missing")
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
        if not _is_scalar(node, _INT):
            self.problem(node, path, f"must be an integer, got {_kind(node)}")
            return None
        return self.construct(node, path, _CONSTRUCTOR.construct_yaml_int)

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
        # An explicit tag (`!!int abc`) can name a type its text is not.
        try:
            return construct(node)
        except (ValueError, yaml.YAMLError) as error:
            self.problem(node, path, f"cannot read {node.value!r}: {error}")
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


def _line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1 if node.start_mark else 0


def _join(path: str, key: str) -> str:
    return key if path == _ROOT else f"{path}.{key}"


def _list(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _unknown_key(name: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{name}'{hint}; allowed keys: {_list(allowed)}"


# --------------------------------------------------------------------------- shipped files


class ShippedScenario(NamedTuple):
    """A scenario that comes with the package, as ``scenarios list`` shows it."""

    name: str
    description: str
    path: Traversable


_SUFFIXES = (".yaml", ".yml", ".json")


def _shipped_files() -> dict[str, Traversable]:
    folder = files("mock_puresms") / "scenarios"
    found = {
        PurePath(entry.name).stem: entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIXES)
    }
    return dict(sorted(found.items()))


def shipped_scenarios() -> list[ShippedScenario]:
    """Every scenario shipped with the package, sorted by name."""
    listing = []
    for name, path in _shipped_files().items():
        scenario = parse_scenario(path.read_text(encoding="utf-8"), source_name=str(path))
        listing.append(ShippedScenario(name, scenario.description, path))
    return listing


def load_scenario(name_or_path: str) -> Scenario:
    """Load a shipped scenario by name (``"realistic"``) or a scenario file by path.

    An exact shipped name wins over a file of that name. Raises
    :class:`UnknownScenarioError` (a :class:`ScenarioError`) when it is neither, and
    :class:`ScenarioError` when the file is invalid or unreadable.
    """
    shipped = _shipped_files()
    if name_or_path in shipped:
        path = shipped[name_or_path]
        return parse_scenario(path.read_text(encoding="utf-8"), source_name=str(path))
    file = Path(name_or_path).expanduser()
    if not file.is_file():
        raise UnknownScenarioError(
            f"no scenario {name_or_path!r}: it is neither a shipped scenario "
            f"({', '.join(shipped)}) nor a file",
            source_name=name_or_path,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = Problem(_ROOT, None, f"cannot read the file: {error}")
        raise ScenarioError([problem], source_name=str(file)) from error
    return parse_scenario(text, source_name=str(file))
