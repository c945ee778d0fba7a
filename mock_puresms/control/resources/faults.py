"""``/_mock/faults``: make the mock's own API fail on purpose."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.faults import parse_fault
from mock_puresms.control.resources._shared import json_object
from mock_puresms.control.state import control_of
from mock_puresms.domain.queries import paginate
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import ProblemError
from mock_puresms.web.render import page_json
from mock_puresms.web.responses import json_response


async def add_fault(request: Request) -> Response:
    fault = parse_fault(await json_object(request))
    control_of(request).faults.add(fault)
    return json_response(fault.to_json())


async def list_faults(request: Request) -> Response:
    page, page_size = Query(request).paging()
    result = paginate(control_of(request).faults.all(), page, page_size)
    return json_response(page_json(result, [f.to_json() for f in result.items]))


async def clear_faults(request: Request) -> Response:
    return json_response({"deleted": control_of(request).faults.clear()})


async def delete_fault(request: Request) -> Response:
    fault_id = request.path_params["id"]
    if not control_of(request).faults.remove(fault_id):
        raise ProblemError(404, f"No fault with id '{fault_id}'.")
    return json_response({"deleted": 1})
