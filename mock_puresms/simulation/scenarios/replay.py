"""Replaying a recorded list of (recipient pattern, lifecycle) pairs.

::

    replay:
      then: rules            # when a pattern's recording is used up: "rules" or "cycle"
      recorded:
        - toPattern: "^44"
          lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 4s}]
        - {toPattern: "^44", lifecycle: expired}      # a named lifecycle
        - {toPattern: "^1", lifecycle: delivered}

The pairs with the same ``toPattern`` (as written) form one track, in file order. The
nth message whose recipient matches a track's pattern (searched, like ``toPattern`` in
a match; the first track in file order whose pattern matches) gets the track's nth
lifecycle. Once a track is used up its messages follow the rules and ``default``
(``then: rules``, the default) or the track starts over (``then: cycle``). Replay is
consulted before the rules; counts start over when the scenario is made active and on
a reset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_puresms.simulation.scenarios.model import Lifecycle

THEN = ("rules", "cycle")
"""What a used-up track does: hand its messages to the rules, or start over."""


@dataclass(frozen=True, slots=True)
class Track:
    """The recorded lifecycles of one recipient pattern, in order."""

    pattern: re.Pattern[str]
    lifecycles: tuple[Lifecycle, ...]


@dataclass(frozen=True, slots=True)
class Replay:
    """Recorded tracks, and whether a used-up track starts over."""

    tracks: tuple[Track, ...]
    cycle: bool = False

    def track_of(self, to: str) -> int | None:
        """The index of the first track whose pattern the recipient matches."""
        for index, track in enumerate(self.tracks):
            if track.pattern.search(to) is not None:
                return index
        return None

    def lifecycle(self, track: int, count: int) -> Lifecycle | None:
        """The lifecycle of the track's message number ``count`` (from 0), or None when
        the track is used up and its messages follow the rules."""
        lifecycles = self.tracks[track].lifecycles
        if count < len(lifecycles):
            return lifecycles[count]
        return lifecycles[count % len(lifecycles)] if self.cycle else None
