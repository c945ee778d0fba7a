"""What is wrong with a scenario file: every mistake, each with its line and its path."""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "$"
"""The path of the whole file, in problems that concern no one key."""


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
        super().__init__([Problem(ROOT, None, message)], source_name=source_name)

    def __str__(self) -> str:
        return self.message
