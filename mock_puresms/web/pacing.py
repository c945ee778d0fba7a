"""Pauses inside one long request, so the event loop serves the others meanwhile.

A 15,000-message bulk send holds the loop for tens of milliseconds in each of its
phases (parsing and validating the body, storing and planning the messages, rendering
the answer). Every other request, health probes included, waits for the whole of it
unless the handler lets the loop run between phases: then none waits for more than
the longest phase (issue 17: no request holds the loop for more than 50 ms).
"""

from __future__ import annotations

import asyncio

PAUSE_FROM = 1_000
"""Messages in a request from which its handler pauses between phases: a smaller send's
phases are short, and a pause costs ``LOOP_PASSES`` passes of the event loop."""


LOOP_PASSES = 3
"""Passes of the event loop a pause lets run. One (``sleep(0)``) is not enough: the
paused request's own wake-up is queued before the I/O the loop then polls, so a request
that arrived during the phase only got its task started, and was answered after the
next phase (two phases' wait, measured: a health probe waited about 20 ms beside a
15,000-message bulk whose phases take 10). The second pass runs that task, which answers
a simple request in one step; the third puts the paused request behind it."""


async def between_phases(count: int) -> None:
    """Let the event loop run what is ready when a request of ``count`` messages has
    finished a phase of its work."""
    if count >= PAUSE_FROM:
        await pause()


async def pause() -> None:
    """Let the event loop run what is ready, and what that starts (the core's sends
    pause so between building and storing ``PAUSE_FROM`` messages or more:
    ``MessageService``)."""
    for _ in range(LOOP_PASSES):
        await asyncio.sleep(0)
