"""Webhook chaos as a body of its own (``PUT /_mock/accounts/{account}/chaos``): the
``webhooks:`` section of a scenario, as JSON or YAML text, checked the same way."""

from __future__ import annotations

from mock_puresms.simulation.scenarios.chaos import WebhookChaos, read_webhooks
from mock_puresms.simulation.scenarios.errors import ROOT, ScenarioError
from mock_puresms.simulation.scenarios.nodes import NodeReader
from mock_puresms.simulation.scenarios.reader import _compose


def parse_chaos(text: str, *, source_name: str = "<request body>") -> WebhookChaos:
    """Read ``{"seed": 7, "chaos": [...]}``; :class:`ScenarioError` lists every mistake,
    each with its line and its path (``chaos[0].probability``)."""
    root = _compose(text, source_name)
    reader = NodeReader()
    chaos = read_webhooks(reader, root, ROOT)
    if reader.problems or chaos is None:
        problems = sorted(reader.problems, key=lambda p: p.line if p.line is not None else 0)
        raise ScenarioError(problems, source_name=source_name)
    return chaos
