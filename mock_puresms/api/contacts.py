"""``/v1/Contacts``: the account's address book (import is in ``contact_import``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.api.contact_input import contact_draft
from mock_puresms.domain.contacts import ContactDraft
from mock_puresms.domain.queries import ContactQuery
from mock_puresms.web.body import read_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import validation_error
from mock_puresms.web.render import contact_json, page_json
from mock_puresms.web.responses import json_response


async def _draft(request: Request) -> ContactDraft:
    draft = contact_draft(await read_json(request))
    if isinstance(draft, dict):
        raise validation_error(draft)
    return draft


async def create_contact(request: Request) -> Response:
    """``POST /v1/Contacts`` → ``201`` with ``Location``; ``409`` for a duplicate number."""
    account = await authenticate(request)
    draft = await _draft(request)
    contact = await mock_of(request).create_contact(account.id, draft)
    return json_response(
        contact_json(contact), 201, headers={"Location": f"/v1/Contacts/{contact.id}"}
    )


async def get_contact(request: Request) -> Response:
    """``GET /v1/Contacts/{id}``."""
    account = await authenticate(request)
    contact = await mock_of(request).contact(account.id, request.path_params["id"])
    return json_response(contact_json(contact))


async def replace_contact(request: Request) -> Response:
    """``PUT /v1/Contacts/{id}``: full replace; an absent ``optedOut`` keeps its value."""
    account = await authenticate(request)
    draft = await _draft(request)
    contact = await mock_of(request).replace_contact(account.id, request.path_params["id"], draft)
    return json_response(contact_json(contact))


async def delete_contact(request: Request) -> Response:
    """``DELETE /v1/Contacts/{id}`` → ``204``."""
    account = await authenticate(request)
    await mock_of(request).delete_contact(account.id, request.path_params["id"])
    return Response(status_code=204)


async def list_contacts(request: Request) -> Response:
    """``GET /v1/Contacts?search=&groupId=&optedOut=``, newest first."""
    account = await authenticate(request)
    query = Query(request)
    page, page_size = query.paging()
    result = await mock_of(request).contacts(
        ContactQuery(
            account_id=account.id,
            search=query.text("search"),
            group_id=query.text("groupId"),
            opted_out=query.boolean("optedOut"),
            page=page,
            page_size=page_size,
        )
    )
    return json_response(page_json(result, [contact_json(c) for c in result.items]))
