"""``/_mock/scenario``: which scenario decides messages' fate; switch it or upload one."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import scenario_problems
from mock_puresms.core import Mock, ScenarioError, shipped_scenario_names
from mock_puresms.web.body import read_body
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import ProblemError, field_error
from mock_puresms.web.responses import json_response

_YAML_TYPES = ("application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml")


def scenario_json(mock: Mock) -> dict[str, Any]:
    scenario = mock.scenario
    return {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "source": scenario.source,
    }


def unknown_scenario(field: str) -> ProblemError:
    """The ``400`` for a name that is no shipped scenario, listing those there are."""
    shipped = ", ".join(shipped_scenario_names())
    return field_error(field, f"'{field}' must name a shipped scenario ({shipped}).")


async def get_scenario(request: Request) -> Response:
    return json_response(scenario_json(mock_of(request)))


async def put_scenario(request: Request) -> Response:
    """A scenario from the body (YAML or JSON), or a shipped one by ``?name=``."""
    mock = mock_of(request)
    name = Query(request).text("name")
    if name is not None:
        try:
            mock.use_shipped_scenario(name)
        except KeyError as exc:
            raise unknown_scenario("name") from exc
        return json_response(scenario_json(mock))
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (*_YAML_TYPES, "application/json"):
        raise ProblemError(
            415,
            "Send the scenario as application/yaml (or text/yaml) or application/json, "
            "or name a shipped one with '?name='.",
        )
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise field_error("$", "The scenario must be UTF-8 text.") from exc
    try:
        mock.use_scenario_text(text)
    except ScenarioError as exc:
        raise scenario_problems(exc) from exc
    return json_response(scenario_json(mock))
