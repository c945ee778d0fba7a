"""Webhook chaos on purpose: what real providers do to receivers, on demand.

The chaos in force for an account is its own setting (``PUT /_mock/accounts/{a}/chaos``)
or else the active scenario's ``webhooks:`` section (model in
``simulation/scenarios/chaos.py``). When a delivery is created, each rule may choose it,
and what was chosen is written on the delivery (``Delivery.chaos``) for ``GET
/_mock/webhooks``; the dispatcher then acts on those marks:

- ``delay``: the first attempt comes ``after`` later (fixed, or drawn from a range);
- ``reorder``: the POST is held until another POST to its URL that carries none of its
  messages has been answered (it is then sent right after it), or ``within`` has passed;
- ``badSignature``/``staleSignature``/``missingSignature``: the first attempt carries a
  wrong HMAC, a correct HMAC of a timestamp ``age`` old, or no signature headers; later
  attempts are signed as usual, so a receiver that refuses gets it again;
- ``duplicate``: once the delivery is received, the same POST (same delivery id, same
  body, so the same event id) is sent again ``after`` later, as one more attempt.

A POST gets at most one chaos of each slot (signature; timing: delay or reorder;
duplicate): the first rule, in file order, that fires. Signature kinds apply only to
deliveries that are signed (a v1 account with a ``secret``, a Connect endpoint with
one) and a rule is not even counted for others.

**Repeatable.** A rule with ``probability`` draws from a hash of the seed, the
delivery's kind and endpoint, its ordinal among the deliveries to its (account, URL)
since the last reset, and the rule's index: no shared random generator, no timing, so
the same seed and the same requests give the same chaos whatever runs concurrently. A
``next: N`` rule fires for the first N deliveries of each account it can apply to,
counted afresh when the account's chaos changes, when the scenario changes and on reset.
Ranges (``after: {min, max}``) are drawn the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from mock_puresms.domain.deliveries import ChaosMark, Delivery
from mock_puresms.simulation.scenarios.chaos import (
    BAD_SIGNATURE,
    DELAY,
    DUPLICATE,
    MISSING_SIGNATURE,
    REORDER,
    SIGNATURE_KINDS,
    STALE_SIGNATURE,
    ChaosRule,
    Span,
    WebhookChaos,
)
from mock_puresms.webhooks.signing import signature

# The scenario's chaos section and seed, read when a delivery is created.
ScenarioChaos = Callable[[], tuple[WebhookChaos | None, int | None]]

_SLOTS = {
    DUPLICATE: "duplicate",
    DELAY: "timing",
    REORDER: "timing",
    BAD_SIGNATURE: "signature",
    STALE_SIGNATURE: "signature",
    MISSING_SIGNATURE: "signature",
}


class FirstAttempt(NamedTuple):
    """When a new delivery's first attempt comes: ``delay_ms`` from now, or, when
    ``held`` (reorder), once overtaken or at the latest ``delay_ms`` from now."""

    delay_ms: int
    held: bool


PLAIN = FirstAttempt(0, held=False)


@dataclass(slots=True)
class _Counts:
    """How often each ``next: N`` rule of ``config`` has fired for one account."""

    config: WebhookChaos
    used: list[int]


def unit_draw(seed: int, *key: object) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``key``."""
    text = "\x1f".join(map(str, (seed, *key))).encode()
    digest = hashlib.blake2b(text, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _pick(span: Span, seed: int, *key: object) -> int:
    if span.low_ms == span.high_ms:
        return span.low_ms
    return span.low_ms + int(unit_draw(seed, *key, "span") * (span.high_ms - span.low_ms + 1))


class WebhookChaosState:
    """The chaos in force per account, and what it has done since the last reset."""

    def __init__(self, scenario_chaos: ScenarioChaos | None = None) -> None:
        self._scenario_chaos = scenario_chaos or (lambda: (None, None))
        self._overrides: dict[str, WebhookChaos] = {}
        self._ordinals: dict[tuple[str, str], int] = {}
        self._counts: dict[str, _Counts] = {}
        # Reordered deliveries waiting to be overtaken, per URL, oldest first.
        self._held: dict[str, list[Delivery]] = {}
        self._duplicates: set[str] = set()

    # -- settings ---------------------------------------------------------------------

    def setting(self, account_id: str) -> tuple[WebhookChaos | None, int, str]:
        """The chaos in force for an account, its seed, and where it comes from:
        ``account`` (its own), ``scenario``, or ``none``."""
        scenario_chaos, scenario_seed = self._scenario_chaos()
        own = self._overrides.get(account_id)
        if own is not None:
            seed = own.seed if own.seed is not None else scenario_seed
            return own, seed if seed is not None else 0, "account"
        if scenario_chaos is not None:
            seed = scenario_chaos.seed if scenario_chaos.seed is not None else scenario_seed
            return scenario_chaos, seed if seed is not None else 0, "scenario"
        return None, 0, "none"

    def override(self, account_id: str, chaos: WebhookChaos | None) -> None:
        """Set (or, with ``None``, drop) the account's own chaos; its counts start over."""
        if chaos is None:
            self._overrides.pop(account_id, None)
        else:
            self._overrides[account_id] = chaos
        self._counts.pop(account_id, None)

    def active(self, account_id: str) -> bool:
        chaos, _, _ = self.setting(account_id)
        return chaos is not None and bool(chaos.rules)

    # -- choosing ---------------------------------------------------------------------

    def plan(self, delivery: Delivery, *, signed: bool) -> FirstAttempt:
        """Choose the chaos of a new delivery, mark it, and say when it first goes."""
        chaos, seed, _ = self.setting(delivery.account_id)
        if chaos is None or not chaos.rules:
            return PLAIN
        stream = (delivery.account_id, delivery.url)
        ordinal = self._ordinals.get(stream, 0)
        self._ordinals[stream] = ordinal + 1
        counts = self._counts.get(delivery.account_id)
        if counts is None or counts.config is not chaos:
            counts = self._counts[delivery.account_id] = _Counts(chaos, [0] * len(chaos.rules))
        key = (delivery.kind, delivery.endpoint, ordinal)
        taken: set[str] = set()
        first = PLAIN
        for index, rule in enumerate(chaos.rules):
            slot = _SLOTS[rule.kind]
            if slot in taken or (rule.kind in SIGNATURE_KINDS and not signed):
                continue
            if not self._fires(rule, index, counts, seed, key):
                continue
            taken.add(slot)
            mark = self._mark(rule, seed, (*key, index))
            delivery.chaos.append(mark)
            if rule.kind == DELAY:
                first = FirstAttempt(mark.detail["delayMs"], held=False)
            elif rule.kind == REORDER:
                first = FirstAttempt(mark.detail["withinMs"], held=True)
                self._held.setdefault(delivery.url, []).append(delivery)
        return first

    @staticmethod
    def _fires(
        rule: ChaosRule, index: int, counts: _Counts, seed: int, key: tuple[object, ...]
    ) -> bool:
        if rule.next is not None:
            if counts.used[index] >= rule.next:
                return False
            counts.used[index] += 1
            return True
        assert rule.probability is not None
        return unit_draw(seed, *key, index, "fires") < rule.probability

    @staticmethod
    def _mark(rule: ChaosRule, seed: int, key: tuple[object, ...]) -> ChaosMark:
        if rule.kind == DELAY:
            assert rule.after is not None
            return ChaosMark(DELAY, {"delayMs": _pick(rule.after, seed, *key)})
        if rule.kind == DUPLICATE:
            assert rule.after is not None
            return ChaosMark(DUPLICATE, {"afterMs": _pick(rule.after, seed, *key)})
        if rule.kind == REORDER:
            return ChaosMark(REORDER, {"withinMs": rule.within_ms, "overtakenBy": None})
        if rule.kind == STALE_SIGNATURE:
            assert rule.age_ms is not None
            return ChaosMark(STALE_SIGNATURE, {"ageSeconds": rule.age_ms // 1000})
        return ChaosMark(rule.kind)

    # -- acting -----------------------------------------------------------------------

    @staticmethod
    def signature_mark(delivery: Delivery) -> ChaosMark | None:
        """The signature chaos of the delivery's next attempt: only its first has any."""
        if delivery.attempts or not delivery.chaos:
            return None
        for mark in delivery.chaos:
            if mark.kind in SIGNATURE_KINDS:
                return mark
        return None

    @staticmethod
    def timing_kinds(delivery: Delivery) -> tuple[str, ...]:
        """The timing chaos (``delay``, ``reorder``) its first attempt carries."""
        return tuple(mark.kind for mark in delivery.chaos if mark.kind in (DELAY, REORDER))

    def overtaken(self, by: Delivery) -> list[Delivery]:
        """``by`` has just been POSTed: the held deliveries to its URL it overtook
        (those carrying none of its messages), released, oldest first."""
        held = self._held.get(by.url)
        if not held:
            return []
        released: list[Delivery] = []
        kept: list[Delivery] = []
        for delivery in held:
            if delivery is by or (
                by.references and not set(by.references).isdisjoint(delivery.references)
            ):
                kept.append(delivery)
                continue
            for mark in delivery.chaos:
                if mark.kind == REORDER:
                    mark.detail["overtakenBy"] = by.id
            released.append(delivery)
        if kept:
            self._held[by.url] = kept
        else:
            del self._held[by.url]
        return released

    def timed_out(self, delivery: Delivery) -> bool:
        """A reordered delivery's ``within`` has passed: whether it was still held."""
        held = self._held.get(delivery.url)
        if not held or delivery not in held:
            return False
        held.remove(delivery)
        if not held:
            del self._held[delivery.url]
        return True

    def duplicate_after(self, delivery: Delivery) -> int | None:
        """The delivery was just received: how long until its duplicate, if it has one
        that is not yet on its way."""
        if not delivery.chaos or delivery.id in self._duplicates:
            return None
        for mark in delivery.chaos:
            if mark.kind == DUPLICATE:
                self._duplicates.add(delivery.id)
                after: int = mark.detail["afterMs"]
                return after
        return None

    # -- forgetting -------------------------------------------------------------------

    def reset(self, account_id: str | None = None) -> None:
        """Forget (one account's) settings, counts, ordinals and held deliveries."""
        if account_id is None:
            self._overrides.clear()
            self._ordinals.clear()
            self._counts.clear()
            self._held.clear()
            self._duplicates.clear()
            return
        self._overrides.pop(account_id, None)
        self._counts.pop(account_id, None)
        for stream in [s for s in self._ordinals if s[0] == account_id]:
            del self._ordinals[stream]
        for url, held in list(self._held.items()):
            kept = [d for d in held if d.account_id != account_id]
            if kept:
                self._held[url] = kept
            else:
                del self._held[url]


def tamper(headers: dict[str, str], mark: ChaosMark, secret: str, body: bytes) -> None:
    """Spoil the signature headers of one attempt as ``mark`` says."""
    if mark.kind == MISSING_SIGNATURE:
        headers.pop("X-Webhook-Timestamp", None)
        headers.pop("X-Webhook-Signature", None)
        return
    timestamp = int(headers["X-Webhook-Timestamp"])
    if mark.kind == STALE_SIGNATURE:
        # A correct HMAC of an old timestamp: only the age is wrong.
        timestamp -= int(mark.detail["ageSeconds"])
        headers["X-Webhook-Timestamp"] = str(timestamp)
        headers["X-Webhook-Signature"] = signature(secret, timestamp, body)
    elif mark.kind == BAD_SIGNATURE:
        # An HMAC under another key: well-formed, fresh, and wrong.
        headers["X-Webhook-Signature"] = signature("not-" + secret, timestamp, body)
