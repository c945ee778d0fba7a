"""``/_mock/reset``: forget state, of every account or one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_filter
from mock_puresms.control.resources.scenario import unknown_scenario
from mock_puresms.core import shipped_scenario_names
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.responses import json_response


async def reset(request: Request) -> Response:
    """Forget state; ``?scenario=NAME`` also makes a shipped scenario active (the plugin's
    per-test reset, in one request)."""
    mock = mock_of(request)
    query = Query(request)
    name = query.text("scenario")
    if name is not None and name not in shipped_scenario_names():
        raise unknown_scenario("scenario")
    account_id = await account_filter(mock, query)
    if name is None:
        await mock.reset(account_id)
    else:
        await mock.reset_to(account_id, name)
    return json_response({"reset": True, "account": account_id, "scenario": mock.scenario.name})
