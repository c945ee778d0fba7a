"""Reading the carrier-realism keys of a scenario file, each mistake with its line.

- ``after`` as a distribution (:mod:`.distributions`), in steps and replies;
- ``lifecycles``: named lifecycles, usable wherever a lifecycle is expected;
- ``byPrefix`` in a rule: weighted outcomes per number prefix (:mod:`.prefixes`);
- ``replay``: recorded (recipient pattern, lifecycle) pairs (:mod:`.replay`).

:class:`RealismReader` sits between :class:`.NodeReader` and the scenario reader, which
calls these methods where the keys appear.
"""

from __future__ import annotations

import difflib

from yaml.nodes import MappingNode, Node, ScalarNode

from mock_puresms.simulation.durations import format_duration
from mock_puresms.simulation.scenarios.distributions import (
    KINDS,
    PERCENTILES,
    Delay,
    Exponential,
    Lognormal,
    Uniform,
)
from mock_puresms.simulation.scenarios.model import Lifecycle, Match, Outcome, Rule
from mock_puresms.simulation.scenarios.nodes import NodeReader, join, listing
from mock_puresms.simulation.scenarios.prefixes import PrefixTable
from mock_puresms.simulation.scenarios.replay import THEN, Replay, Track

_DELAY_KEYS = (*KINDS, "max")
_LOGNORMAL_KEYS = ("median", *PERCENTILES)
_REPLAY_KEYS = ("then", "recorded")
_RECORD_KEYS = ("toPattern", "lifecycle")
_STR = "tag:yaml.org,2002:str"
_DURATION_HINT = "a duration (2s) or a distribution ({lognormal: {median: 3s, p99: 40s}})"


class RealismReader(NodeReader):
    """Reads distributions, named lifecycles, prefix tables and replays."""

    def __init__(self) -> None:
        super().__init__()
        self.named: dict[str, Lifecycle] = {}
        # Names whose lifecycle has a mistake (reported there): a use is no mistake too.
        self.broken: set[str] = set()

    def lifecycle(self, node: Node, path: str) -> Lifecycle | None:  # pragma: no cover
        raise NotImplementedError  # the scenario reader's

    def outcome_list(self, node: Node, path: str) -> tuple[Outcome, ...] | None:  # pragma: no cover
        raise NotImplementedError  # the scenario reader's

    # -- delays

    def delay(self, node: Node, path: str) -> tuple[int, Delay | None] | None:
        """An ``after``: a duration (no distribution) or a distribution; with its median."""
        if not isinstance(node, MappingNode):
            after_ms = self.duration(node, path)
            return None if after_ms is None else (after_ms, None)
        keys = [key.value for key, _ in node.value if isinstance(key, ScalarNode)]
        if not any(key in _DELAY_KEYS for key in keys):
            # Nothing of a distribution in it: one problem, not one per stray key.
            self.problem(
                node, path, f"must be {_DURATION_HINT}, got a mapping with keys {keys or 'none'}"
            )
            return None
        fields = self.fields(node, path, _DELAY_KEYS)
        if fields is None:
            return None
        kinds = [kind for kind in KINDS if kind in fields]
        cap = self.duration(fields["max"].value, join(path, "max")) if "max" in fields else None
        if not kinds:
            self.problem(node, path, f"must be {_DURATION_HINT}: give one of {listing(KINDS)}")
            return None
        if len(kinds) > 1:
            self.problem(node, path, f"give one distribution, not {' and '.join(kinds)}")
            return None
        kind = kinds[0]
        inner, inner_path = fields[kind].value, join(path, kind)
        delay: Delay | None = None
        if kind == "lognormal":
            delay = self._lognormal(inner, inner_path)
        elif kind == "uniform":
            delay = self._uniform(inner, inner_path)
        else:
            delay = self._exponential(inner, inner_path)
        if delay is None or ("max" in fields and cap is None):
            return None
        if cap is not None:
            if cap < delay.median_ms:
                self.problem(
                    fields["max"].value,
                    join(path, "max"),
                    f"{format_duration(cap)} is below the median "
                    f"({format_duration(delay.median_ms)}): most delays would be cut to it",
                )
                return None
            delay = _capped(delay, cap)
        return delay.median_ms, delay

    def _lognormal(self, node: Node, path: str) -> Lognormal | None:
        before = len(self.problems)
        fields = self.fields(node, path, _LOGNORMAL_KEYS, required=("median",))
        if fields is None:
            return None
        tails = [name for name in PERCENTILES if name in fields]
        if len(tails) != 1 and len(self.problems) == before:  # not after an unknown key
            self.problem(node, path, f"give the median and one tail: {listing(tuple(PERCENTILES))}")
        median = None
        if "median" in fields:  # else reported as missing
            median = self.duration(fields["median"].value, join(path, "median"))
        if median == 0:
            self.problem(fields["median"].value, join(path, "median"), "must be more than 0")
            median = None
        if len(tails) != 1:
            return None
        tail_name = tails[0]
        tail = self.duration(fields[tail_name].value, join(path, tail_name))
        if median is None or tail is None:
            return None
        if tail <= median:
            self.problem(
                fields[tail_name].value,
                join(path, tail_name),
                f"{format_duration(tail)} must be more than the median "
                f"({format_duration(median)}): the tail is the slow end",
            )
            return None
        return Lognormal(median, tail, PERCENTILES[tail_name])

    def _uniform(self, node: Node, path: str) -> Uniform | None:
        fields = self.fields(node, path, ("min", "max"), required=("min", "max"))
        if fields is None or "min" not in fields or "max" not in fields:
            return None
        low = self.duration(fields["min"].value, join(path, "min"))
        high = self.duration(fields["max"].value, join(path, "max"))
        if low is None or high is None:
            return None
        if high < low:
            self.problem(
                fields["max"].value,
                join(path, "max"),
                f"{format_duration(high)} is less than min ({format_duration(low)})",
            )
            return None
        return Uniform(low, high)

    def _exponential(self, node: Node, path: str) -> Exponential | None:
        fields = self.fields(node, path, ("mean",), required=("mean",))
        if fields is None or "mean" not in fields:
            return None
        mean = self.duration(fields["mean"].value, join(path, "mean"))
        if mean == 0:
            self.problem(fields["mean"].value, join(path, "mean"), "must be more than 0")
            return None
        return None if mean is None else Exponential(mean)

    # -- named lifecycles

    def named_lifecycles(self, node: Node, path: str) -> None:
        """Read ``lifecycles`` (name -> lifecycle) into ``named``."""
        if not isinstance(node, MappingNode):
            self.problem(node, path, "must be a mapping of names to lifecycles")
            return
        for key, value, _ in self.entries(node, path, frozenset()):
            name = self.text(key, path, non_empty=True)
            if name is None:
                continue
            if name in self.named or name in self.broken:
                self.problem(key, join(path, name), f"duplicate lifecycle name '{name}'")
                continue
            lifecycle = self.lifecycle(value, join(path, name))
            if lifecycle is None:
                self.broken.add(name)
            else:
                self.named[name] = lifecycle

    def named_lifecycle(self, node: ScalarNode, path: str) -> Lifecycle | None:
        """The lifecycle a name refers to."""
        name = str(node.value)
        if name in self.named:
            return self.named[name]
        if name in self.broken:
            return None
        if not self.named and not self.broken:
            self.problem(
                node,
                path,
                f"must be a list of {{status, after}} steps or the name of one under "
                f"'lifecycles', got a string ({name!r}); the file names no lifecycles",
            )
            return None
        close = difflib.get_close_matches(name, list(self.named), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.problem(
            node,
            path,
            f"unknown lifecycle '{name}'{hint}; named lifecycles: {listing(tuple(self.named))}",
        )
        return None

    # -- byPrefix

    def by_prefix(self, node: Node, path: str) -> PrefixTable | None:
        """A rule's ``byPrefix``: prefix -> lifecycle name, {name: weight} or outcomes."""
        if not isinstance(node, MappingNode) or not node.value:
            self.problem(
                node,
                path,
                "must be a non-empty mapping of number prefixes to outcomes, "
                'e.g. {"447": {delivered: 97, expired: 3}}',
            )
            return None
        before = len(self.problems)
        lines: dict[str, int] = {}
        entries: dict[str, Rule] = {}
        for key, value, _ in self.entries(node, path, frozenset()):
            prefix = self.number(key, path, min_digits=1)
            if prefix is None:
                continue
            entry_path = join(path, prefix)
            if prefix in lines:
                first = lines[prefix]
                self.problem(
                    key, entry_path, f"duplicate prefix '{prefix}' (first on line {first})"
                )
                continue
            lines[prefix] = key.start_mark.line + 1 if key.start_mark else 0
            outcomes = self._prefix_outcomes(value, entry_path)
            if outcomes is not None:
                rule = Rule(
                    name=f"byPrefix {prefix}", match=Match(to_prefix=prefix), outcomes=outcomes
                )
                entries[prefix] = rule
        if len(self.problems) > before:
            return None
        return PrefixTable(tuple(entries.items()))

    def _prefix_outcomes(self, node: Node, path: str) -> tuple[Outcome, ...] | None:
        if isinstance(node, ScalarNode) and node.tag == _STR:
            lifecycle = self.named_lifecycle(node, path)
            return None if lifecycle is None else (Outcome(1.0, lifecycle),)
        if not isinstance(node, MappingNode):
            return self.outcome_list(node, path)  # a list of {weight, lifecycle}, or a mistake
        outcomes: list[Outcome] = []
        ok = bool(node.value)
        if not ok:
            self.problem(node, path, "must not be empty: give {lifecycle name: weight, ...}")
        for key, value, _ in self.entries(node, path, frozenset()):
            name_path = path
            lifecycle = None
            if isinstance(key, ScalarNode) and key.tag == _STR:
                name_path = join(path, str(key.value))
                lifecycle = self.named_lifecycle(key, name_path)
            else:
                self.problem(key, path, "a key must be the name of a lifecycle under 'lifecycles'")
            weight = self.weight(value, name_path)
            if lifecycle is None or weight is None:
                ok = False
            else:
                outcomes.append(Outcome(weight, lifecycle))
        return tuple(outcomes) if ok else None

    # -- replay

    def replay(self, node: Node, path: str) -> Replay | None:
        fields = self.fields(node, path, _REPLAY_KEYS, required=("recorded",))
        if fields is None:
            return None
        cycle = False
        if "then" in fields:
            then = self.text(fields["then"].value, join(path, "then"))
            if then is not None and then not in THEN:
                self.problem(
                    fields["then"].value,
                    join(path, "then"),
                    f"must be one of {listing(THEN)}, got {then!r}",
                )
            cycle = then == "cycle"
        if "recorded" not in fields:
            return None
        recorded_path = join(path, "recorded")
        items = self.sequence(
            fields["recorded"].value,
            recorded_path,
            "a list of {toPattern, lifecycle}",
            non_empty=True,
        )
        before = len(self.problems)
        tracks: dict[str, tuple[list[Lifecycle], Track]] = {}
        for index, item in enumerate(items):
            item_path = f"{recorded_path}[{index}]"
            record = self.fields(item, item_path, _RECORD_KEYS, required=_RECORD_KEYS)
            if record is None or len(record) < len(_RECORD_KEYS):
                continue
            pattern = self.pattern(record["toPattern"].value, join(item_path, "toPattern"))
            lifecycle = self.lifecycle(record["lifecycle"].value, join(item_path, "lifecycle"))
            if pattern is None or lifecycle is None:
                continue
            if pattern.pattern not in tracks:
                tracks[pattern.pattern] = ([], Track(pattern, ()))
            tracks[pattern.pattern][0].append(lifecycle)
        if len(self.problems) > before or not items:
            return None
        return Replay(
            tuple(Track(track.pattern, tuple(found)) for found, track in tracks.values()),
            cycle=cycle,
        )


def _capped(delay: Delay, cap_ms: int) -> Delay:
    if isinstance(delay, Lognormal):
        return Lognormal(delay.median_ms, delay.tail_ms, delay.tail_at, cap_ms)
    if isinstance(delay, Uniform):
        return Uniform(delay.min_ms, delay.max_ms, cap_ms)
    assert isinstance(delay, Exponential)
    return Exponential(delay.mean_ms, cap_ms)
