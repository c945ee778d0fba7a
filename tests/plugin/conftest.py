"""Modules the in-process ``pytester`` runs use, imported before any of them.

``pytester.runpytest()`` forgets every module first imported during the run. A module
imported for the first time inside a run would be imported again afterwards, as a
second copy: httpx, for one, keeps the exception classes of the first httpcore it
loaded, and would stop recognising those of the second (a webhook POST's connection
error would escape the dispatcher). The same holds for aiohttp, which sends them.
"""

from __future__ import annotations

import aiohttp  # noqa: F401
import h11  # noqa: F401
import httpcore  # noqa: F401
import httpx  # noqa: F401

import mock_puresms.app
import mock_puresms.simulation.scenarios
import mock_puresms.testing.client
import mock_puresms.testing.server_thread
import mock_puresms.testing.webhook_sink
import mock_puresms.webhooks.sender  # noqa: F401
