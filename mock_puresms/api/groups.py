"""``/v1/ContactGroups``: named groups of contacts and their members."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.domain.groups import UnknownContacts
from mock_puresms.domain.queries import GroupQuery
from mock_puresms.web.body import lowercase_keys, read_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import field_error, validation_error
from mock_puresms.web.render import group_json, page_json
from mock_puresms.web.responses import json_response

MAX_GROUP_NAME_LENGTH = 100
MAX_CONTACT_IDS = 15_000  # as many as one send or one import handles


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise field_error("$", "The body must be a JSON object.")
    return lowercase_keys(body)


async def _name(request: Request) -> str:
    name = _object(await read_json(request)).get("name")
    if name is None:
        raise field_error("name", "'name' is required.")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "'name' must be a non-empty string.")
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise field_error(
            "name", f"'name' must be at most {MAX_GROUP_NAME_LENGTH} characters long."
        )
    return name


async def list_groups(request: Request) -> Response:
    """``GET /v1/ContactGroups``, newest first."""
    account = await authenticate(request)
    page, page_size = Query(request).paging()
    result = await mock_of(request).groups(GroupQuery(account.id, page=page, page_size=page_size))
    return json_response(page_json(result, [group_json(g) for g in result.items]))


async def create_group(request: Request) -> Response:
    """``POST /v1/ContactGroups`` ``{"name"}`` → ``201`` with ``Location``."""
    account = await authenticate(request)
    group = await mock_of(request).create_group(account.id, await _name(request))
    return json_response(
        group_json(group), 201, headers={"Location": f"/v1/ContactGroups/{group.id}"}
    )


async def get_group(request: Request) -> Response:
    """``GET /v1/ContactGroups/{id}``."""
    account = await authenticate(request)
    group = await mock_of(request).group(account.id, request.path_params["id"])
    return json_response(group_json(group))


async def rename_group(request: Request) -> Response:
    """``PUT /v1/ContactGroups/{id}`` ``{"name"}``."""
    account = await authenticate(request)
    name = await _name(request)
    group = await mock_of(request).rename_group(account.id, request.path_params["id"], name)
    return json_response(group_json(group))


async def delete_group(request: Request) -> Response:
    """``DELETE /v1/ContactGroups/{id}`` → ``204``; the contacts stay."""
    account = await authenticate(request)
    await mock_of(request).delete_group(account.id, request.path_params["id"])
    return Response(status_code=204)


def _contact_ids(body: Any) -> list[str]:
    raw = _object(body).get("contactids")
    if raw is None:
        raise field_error("contactIds", "'contactIds' is required.")
    if not isinstance(raw, list):
        raise field_error("contactIds", "'contactIds' must be an array of contact ids.")
    if len(raw) > MAX_CONTACT_IDS:
        raise field_error("contactIds", f"'contactIds' must hold at most {MAX_CONTACT_IDS:,} ids.")
    errors = {
        f"contactIds[{i}]": [f"'contactIds[{i}]' must be a contact id (a string)."]
        for i, item in enumerate(raw)
        if not isinstance(item, str) or not item
    }
    if errors:
        raise validation_error(errors)
    return raw


async def add_contacts(request: Request) -> Response:
    """``POST /v1/ContactGroups/{id}/Contacts`` ``{"contactIds"}`` → ``200`` with the group.

    All or nothing: one unknown id is a ``400`` naming it, and nobody joins.
    """
    account = await authenticate(request)
    contact_ids = _contact_ids(await read_json(request))
    try:
        group = await mock_of(request).add_to_group(
            account.id, request.path_params["id"], contact_ids
        )
    except UnknownContacts as exc:
        raise validation_error(
            {
                f"contactIds[{i}]": [f"No contact with id '{contact_id}'."]
                for i, contact_id in exc.unknown
            }
        ) from exc
    return json_response(group_json(group))


async def remove_contact(request: Request) -> Response:
    """``DELETE /v1/ContactGroups/{id}/Contacts/{contactId}`` → ``200`` with the group.

    A contact that exists but is not a member leaves the group unchanged (a repeated
    DELETE succeeds); an unknown group or contact is ``404``.
    """
    account = await authenticate(request)
    group = await mock_of(request).remove_from_group(
        account.id, request.path_params["id"], request.path_params["contactId"]
    )
    return json_response(group_json(group))
