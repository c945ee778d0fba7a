"""``/_mock/replies``: every reply of every account; a phone answers, as if by SMS."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_filter, account_named, json_object
from mock_puresms.domain.phones import normalize_phone
from mock_puresms.domain.queries import ReplyQuery
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import field_error, validation_error
from mock_puresms.web.render import page_json, reply_json
from mock_puresms.web.responses import json_response


async def list_replies(request: Request) -> Response:
    """``?account=&inReplyTo=&from=``, newest first, in the list envelope; each reply as
    the v1 API shows it plus ``account``."""
    mock = mock_of(request)
    query = Query(request)
    account_id = await account_filter(mock, query)
    phone = query.text("from")
    page, page_size = query.paging()
    result = await mock.replies(
        ReplyQuery(
            account_id,
            # A number that cannot be valid matches nothing, rather than failing the list.
            from_=(normalize_phone(phone) or phone) if phone is not None else None,
            in_reply_to=query.text("inReplyTo"),
            page=page,
            page_size=page_size,
        )
    )
    return json_response(
        page_json(result, [{**reply_json(r), "account": r.account_id} for r in result.items])
    )


async def inject_reply(request: Request) -> Response:
    mock = mock_of(request)
    body = await json_object(request)
    errors: dict[str, list[str]] = {}
    phone_raw, sender, content = body.get("from"), body.get("to"), body.get("content")
    phone = normalize_phone(phone_raw) if isinstance(phone_raw, str) else None
    if phone is None:
        errors["from"] = ["'from' must be the phone: 7 to 15 digits, optionally prefixed by '+'."]
    if not isinstance(sender, str) or not sender:
        errors["to"] = ["'to' must be the sender the phone answers (the message's 'from')."]
    if not isinstance(content, str) or not content:
        errors["content"] = ["'content' is required."]
    ident, key = body.get("account"), body.get("apikey")
    if ident is not None and not isinstance(ident, str):
        errors["account"] = ["'account' must be an account id or name."]
    if key is not None and (not isinstance(key, str) or not key):
        errors["apiKey"] = ["'apiKey' must be an API key of the account."]
    elif key is not None and ident is not None:
        errors["apiKey"] = ["Give 'account' or 'apiKey', not both."]
    if errors:
        raise validation_error(errors)
    assert isinstance(sender, str) and isinstance(content, str) and phone is not None
    if isinstance(key, str):
        # The account the key authenticates as, made now in open mode: a test may
        # inject a reply before its code has sent anything with that key.
        account = await mock.account_for_api_key(key)
        if account is None:
            raise field_error("apiKey", "No account has the API key given as 'apiKey'.")
        account_id = account.id
    elif isinstance(ident, str):
        account_id = (await account_named(mock, ident)).id
    else:
        found = await mock.last_sender_account(phone, sender)
        if found is None:
            raise field_error(
                "account",
                f"No account has sent to {phone} from '{sender}'; name the 'account'.",
            )
        account_id = found
    reply = await mock.receive_reply(account_id, phone, sender, content)
    return json_response({**reply_json(reply), "account": account_id})
