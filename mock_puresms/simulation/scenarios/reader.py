"""Reading a scenario file (YAML or JSON text) into a :class:`.Scenario`.

Every mistake of a file is reported at once, each with its line and its path
(``rules[0].lifecycle[1].status``), in a :class:`.ScenarioError`. The values inside
the structure are read by :class:`.NodeReader`.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios.chaos import WebhookChaos, read_webhooks
from mock_puresms.simulation.scenarios.distributions import Delay
from mock_puresms.simulation.scenarios.errors import ROOT, Problem, ScenarioError
from mock_puresms.simulation.scenarios.model import (
    DEFAULT_RULE,
    Lifecycle,
    Match,
    Outcome,
    ReplyRule,
    Rule,
    Scenario,
    Step,
)
from mock_puresms.simulation.scenarios.nodes import Entry, join, line_of, listing
from mock_puresms.simulation.scenarios.realism import RealismReader

MAX_DEPTH = 32
"""Nesting allowed in a scenario file; the deepest scenario has 6 levels."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOP_KEYS = (
    "name",
    "description",
    "seed",
    "rules",
    "default",
    "replies",
    "lifecycles",
    "replay",
    "webhooks",
)
_RULE_KEYS = ("name", "match", "lifecycle", "outcomes", "byPrefix")
_DEFAULT_KEYS = ("lifecycle", "outcomes")
_OUTCOME_KEYS = ("weight", "lifecycle")
_STEP_KEYS = ("status", "after")
_REPLY_KEYS = ("match", "after", "content")
_MATCH_KEYS = ("to", "toPrefix", "toPattern", "from", "contentPattern", "isTest")


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
        _check_events(text, source_name)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        # JSON allows tabs between tokens, YAML does not. In valid JSON a tab can only be
        # such whitespace (tabs in strings must be escaped), so spaces are a safe swap.
        if "\t" in text and _is_json(text):
            return _compose(text.replace("\t", " "), source_name)
        raise ScenarioError([_syntax_problem(error, text)], source_name=source_name) from None
    if root is None:
        problem = Problem(
            ROOT, 1, "the file is empty: a scenario is a mapping with keys " + listing(_TOP_KEYS)
        )
        raise ScenarioError([problem], source_name=source_name)
    return root


def _check_events(text: str, source_name: str) -> None:
    """Refuse, before composing, what PyYAML would choke on or keep and break later.

    The composer recurses once per level (a few hundred levels are a RecursionError),
    and an escaped lone surrogate (``"\\ud800"``) is kept in the string, which then
    cannot be written as UTF-8 JSON, not even in a problem quoting it. The event parser
    is a loop, so it reads both safely; the path of each value is followed for problems.
    """
    # One entry per open collection: [key or index of the value being read, awaiting a key]
    stack: list[list[Any]] = []
    problems: list[Problem] = []

    def path() -> str:
        where = ROOT
        for place, _ in stack:
            if place is not None:
                where = f"{where}[{place}]" if isinstance(place, int) else join(where, place)
        return where

    def value_done() -> None:
        if stack:
            top = stack[-1]
            if isinstance(top[0], int):
                top[0] += 1
            else:
                top[0], top[1] = None, True

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                reason = f"nested more than {MAX_DEPTH} levels deep"
                raise ScenarioError([Problem(path(), line, reason)], source_name=source_name)
            if stack and stack[-1][1]:
                stack[-1][1] = False  # a collection as a key: nothing names the value
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append([None, True] if is_mapping else [0, False])
        elif isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            value_done()
        elif isinstance(event, yaml.ScalarEvent):
            lone = _SURROGATE.search(event.value) is not None
            if lone:
                reason = "holds a lone surrogate (\\ud800 to \\udfff), which is not text"
                problems.append(Problem(path(), line, reason))
            if stack and stack[-1][1]:
                stack[-1][0], stack[-1][1] = ("?" if lone else event.value), False
            else:
                value_done()
        elif isinstance(event, yaml.AliasEvent):
            if stack and stack[-1][1]:
                stack[-1][1] = False
            else:
                value_done()
    if problems:
        raise ScenarioError(problems, source_name=source_name)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
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
        return Problem(ROOT, line, f"invalid YAML: {reason}")
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        character = error.character
        shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
        return Problem(ROOT, line, f"invalid YAML: character {shown}: {error.reason}")
    return Problem(ROOT, None, f"invalid YAML: {error}")


class _Reader(RealismReader):
    """Walks the composed node tree of a scenario, collecting every problem.

    Each method returns the parsed value, or None after recording why it could not.
    """

    def scenario(self, node: Node, source: str, default_name: str) -> Scenario | None:
        fields = self.fields(node, ROOT, _TOP_KEYS)
        if fields is None:
            return None
        name = default_name
        if "name" in fields:
            name = self.text(fields["name"].value, "name", non_empty=True) or name
        description = ""
        if "description" in fields:
            description = self.text(fields["description"].value, "description") or ""
        seed = self.integer(fields["seed"].value, "seed") if "seed" in fields else None
        if "lifecycles" in fields:  # first: the rules may name them
            self.named_lifecycles(fields["lifecycles"].value, "lifecycles")
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
        replay = self.replay(fields["replay"].value, "replay") if "replay" in fields else None
        webhooks: WebhookChaos | None = None
        if "webhooks" in fields:  # chaos on webhook POSTs (``chaos.py``)
            webhooks = read_webhooks(self, fields["webhooks"].value, "webhooks")
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
            replay=replay,
            webhooks=webhooks,
        )

    def rule(self, node: Node, path: str) -> Rule | None:
        fields = self.fields(node, path, _RULE_KEYS, required=("match",))
        if fields is None:
            return None
        name = self.text(fields["name"].value, join(path, "name")) if "name" in fields else None
        match = (
            self.match(fields["match"].value, join(path, "match")) if "match" in fields else None
        )
        if "byPrefix" in fields:
            return self.prefix_rule(fields, path, name, match)
        outcomes = self.outcomes_of(node, fields, path)
        if match is None or outcomes is None:
            return None
        return Rule(name=name, match=match, outcomes=outcomes)

    def prefix_rule(
        self, fields: dict[str, Entry], path: str, name: str | None, match: Match | None
    ) -> Rule | None:
        table = self.by_prefix(fields["byPrefix"].value, join(path, "byPrefix"))
        others = [key for key in ("lifecycle", "outcomes") if key in fields]
        if others:
            self.problem(
                fields[others[0]].key, path, "give one of 'lifecycle', 'outcomes' or 'byPrefix'"
            )
            return None
        if match is None or table is None:
            return None
        return Rule(name=name, match=match, outcomes=(), by_prefix=table)

    def default(self, node: Node, path: str) -> Rule | None:
        fields = self.fields(node, path, _DEFAULT_KEYS)
        if fields is None:
            return None
        outcomes = self.outcomes_of(node, fields, path)
        if outcomes is None:
            return None
        return Rule(name="default", match=Match(), outcomes=outcomes)

    def outcomes_of(
        self, node: Node, fields: dict[str, Entry], path: str
    ) -> tuple[Outcome, ...] | None:
        """The body of a rule: a fixed ``lifecycle`` (one outcome) or weighted ``outcomes``."""
        lifecycle = outcomes = None
        if "lifecycle" in fields:
            lifecycle = self.lifecycle(fields["lifecycle"].value, join(path, "lifecycle"))
        if "outcomes" in fields:
            outcomes = self.outcome_list(fields["outcomes"].value, join(path, "outcomes"))
        if "lifecycle" in fields and "outcomes" in fields:
            later = max(fields["lifecycle"].key, fields["outcomes"].key, key=line_of)
            self.problem(later, path, "give either 'lifecycle' or 'outcomes', not both")
            return None
        if "lifecycle" not in fields and "outcomes" not in fields:
            self.problem(
                node,
                join(path, "lifecycle"),
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
            self.weight(fields["weight"].value, join(path, "weight"))
            if "weight" in fields
            else None
        )
        lifecycle = None
        if "lifecycle" in fields:
            lifecycle = self.lifecycle(fields["lifecycle"].value, join(path, "lifecycle"))
        if weight is None or lifecycle is None:
            return None
        return Outcome(weight, lifecycle)

    def lifecycle(self, node: Node, path: str) -> Lifecycle | None:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            return self.named_lifecycle(node, path)
        items = self.sequence(node, path, "a list of {status, after} steps", non_empty=True)
        steps: list[Step] = []
        ok = bool(items)
        # None when the previous step's status is unreadable: nothing to compare with.
        previous: DeliveryStatus | None = DeliveryStatus.ACCEPTED
        went_on_after_final = False
        for i, item in enumerate(items):
            step_path = f"{path}[{i}]"
            status, after = self.step(item, step_path)
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
                    join(step_path, "status"),
                    f"the message is already {status.label} {where}: "
                    "each step must change the status",
                )
                ok = False
            if status is None or after is None:
                ok = False
            else:
                steps.append(Step(status, *after))
            previous = status
        return tuple(steps) if ok else None

    def step(
        self, node: Node, path: str
    ) -> tuple[DeliveryStatus | None, tuple[int, Delay | None] | None]:
        fields = self.fields(node, path, _STEP_KEYS, required=_STEP_KEYS)
        if fields is None:
            return None, None
        status = (
            self.status(fields["status"].value, join(path, "status"))
            if "status" in fields
            else None
        )
        after = (
            self.delay(fields["after"].value, join(path, "after")) if "after" in fields else None
        )
        return status, after

    def reply(self, node: Node, path: str) -> ReplyRule | None:
        fields = self.fields(node, path, _REPLY_KEYS, required=_REPLY_KEYS)
        if fields is None:
            return None
        match = (
            self.match(fields["match"].value, join(path, "match")) if "match" in fields else None
        )
        after = (
            self.delay(fields["after"].value, join(path, "after")) if "after" in fields else None
        )
        content = None
        if "content" in fields:
            content = self.text(fields["content"].value, join(path, "content"), non_empty=True)
        if match is None or after is None or content is None:
            return None
        return ReplyRule(match=match, after_ms=after[0], content=content, delay=after[1])

    def match(self, node: Node, path: str) -> Match | None:
        fields = self.fields(node, path, _MATCH_KEYS)
        if fields is None:
            return None
        before = len(self.problems)
        to = to_prefix = sender = None
        to_pattern = content_pattern = None
        is_test = None
        if "to" in fields:
            to = self.number(fields["to"].value, join(path, "to"), min_digits=7)
        if "toPrefix" in fields:
            to_prefix = self.number(fields["toPrefix"].value, join(path, "toPrefix"), min_digits=1)
        if "toPattern" in fields:
            to_pattern = self.pattern(fields["toPattern"].value, join(path, "toPattern"))
        if "from" in fields:
            sender = self.sender(fields["from"].value, join(path, "from"))
        if "contentPattern" in fields:
            content_pattern = self.pattern(
                fields["contentPattern"].value, join(path, "contentPattern")
            )
        if "isTest" in fields:
            is_test = self.boolean(fields["isTest"].value, join(path, "isTest"))
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
