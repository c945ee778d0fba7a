"""The scenarios shipped with the package, and loading one by name or a file by path.

The shipped files live in ``mock_puresms/scenarios/`` (package data, not this package).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePath
from typing import NamedTuple

from mock_puresms.simulation.scenarios.errors import (
    ROOT,
    Problem,
    ScenarioError,
    UnknownScenarioError,
)
from mock_puresms.simulation.scenarios.model import Scenario
from mock_puresms.simulation.scenarios.reader import parse_scenario


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
        problem = Problem(ROOT, None, f"cannot read the file: {error}")
        raise ScenarioError([problem], source_name=str(file)) from error
    return parse_scenario(text, source_name=str(file))
