"""The scenario model: frozen, typed rules that decide each message's fate.

A :class:`Scenario` answers the two questions the engine asks: which lifecycle does
this message follow (:meth:`Scenario.lifecycle_for`), and does anyone reply to it
(:meth:`Scenario.reply_for`). ``toPattern`` and ``contentPattern`` are searched
(``re.search``); ``from`` is compared exactly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios.chaos import WebhookChaos

if TYPE_CHECKING:
    from mock_puresms.simulation.scenarios.distributions import Delay
    from mock_puresms.simulation.scenarios.prefixes import PrefixTable
    from mock_puresms.simulation.scenarios.replay import Replay


@dataclass(frozen=True, slots=True)
class Step:
    """One status change of a lifecycle, ``after_ms`` after the previous one.

    With a ``delay`` (a distribution), each message draws its own ``after``;
    ``after_ms`` is then the distribution's median.
    """

    status: DeliveryStatus
    after_ms: int
    delay: Delay | None = None


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


class Draws(Protocol):
    """Where weighted choices get their numbers: ``random.Random`` or per-message draws."""

    def random(self) -> float:
        """A number in [0, 1)."""
        ...


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
    by_prefix: PrefixTable | None = None
    """Outcomes per recipient prefix instead of ``outcomes``: see :mod:`.prefixes`."""

    def applies_to(self, message: MessageFacts) -> bool:
        """Whether the message matches, and starts with one of ``by_prefix``'s prefixes."""
        return self.match.matches(message) and (
            self.by_prefix is None or self.by_prefix.rule_for(message.to) is not None
        )

    def draw(self, rng: Draws) -> Lifecycle:
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
    delay: Delay | None = None
    """A distribution each reply draws its ``after`` from (``after_ms`` is its median)."""


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
    replay: Replay | None = None
    """Recorded lifecycles consulted before the rules: see :mod:`.replay`."""
    # The ``webhooks:`` section: chaos on webhook POSTs (``None`` when there is none).
    webhooks: WebhookChaos | None = None
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
        common = self.default.outcomes[0].lifecycle if len(self.default.outcomes) == 1 else ()
        drawn = self.replay is not None or any(step.delay is not None for step in common)
        if not general and None not in reply_recipients and common and not drawn:
            object.__setattr__(self, "common_lifecycle", common)
        named = {to for to in reply_recipients if to is not None} | by_to.keys()
        object.__setattr__(self, "named_recipients", frozenset(named))

    def rule_for(self, message: MessageFacts) -> Rule:
        """The first rule the message matches, else the default rule."""
        for rule in self._rules_by_to.get(message.to, self._rules_for_others):
            if rule.applies_to(message):
                return rule
        return self.default

    def lifecycle_for(self, message: MessageFacts, rng: Draws) -> Lifecycle:
        """The lifecycle of a newly accepted message.

        A rule with several outcomes draws one weighted choice with a single
        ``rng.random()`` call, so the same seed and the same sequence of messages give
        the same outcomes; a rule with one outcome leaves ``rng`` untouched.
        """
        rule = self.rule_for(message)
        if rule.by_prefix is not None:
            rule = rule.by_prefix.rule_for(message.to) or rule  # applies_to found one
        return rule.draw(rng)

    def reply_for(self, message: MessageFacts) -> ReplyRule | None:
        """The first reply rule the message matches, if any."""
        for reply in self.replies:
            if reply.match.matches(message):
                return reply
        return None

    def new_rng(self) -> random.Random:
        """A fresh random generator seeded with ``seed`` (from the OS when there is none)."""
        return random.Random(self.seed)
