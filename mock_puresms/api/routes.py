"""The PureSMS v1 route table."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_puresms.api import account, contact_import, contacts, groups, oauth, replies, sms
from mock_puresms.web.routing import FlexibleRoute


def v1_routes() -> list[BaseRoute]:
    # Batch routes come first: "/v1/Sms/Batch/x" would otherwise match "/v1/Sms/{reference}";
    # likewise "/v1/Contacts/Import" before "/v1/Contacts/{id}".
    return [
        # The sends first: routes are tried in order, and these are the busiest.
        FlexibleRoute("/v1/Sms/Send", {"POST": sms.send}),
        FlexibleRoute("/v1/Sms/SendBulk", {"POST": sms.send_bulk}),
        FlexibleRoute("/connect/token", {"POST": oauth.token}),
        FlexibleRoute("/v1/Sms/SendToGroup", {"POST": sms.send_to_group}),
        FlexibleRoute(
            "/v1/Sms/Batch/{batchReference}",
            {"GET": sms.get_batch, "DELETE": sms.cancel_batch},
        ),
        FlexibleRoute("/v1/Sms", {"GET": sms.list_messages}),
        FlexibleRoute(
            "/v1/Sms/{reference}", {"GET": sms.get_message, "DELETE": sms.cancel_message}
        ),
        FlexibleRoute("/v1/Replies", {"GET": replies.list_replies}),
        FlexibleRoute("/v1/Replies/{reference}", {"GET": replies.get_reply}),
        FlexibleRoute(
            "/v1/Contacts", {"GET": contacts.list_contacts, "POST": contacts.create_contact}
        ),
        FlexibleRoute("/v1/Contacts/Import", {"POST": contact_import.import_contacts}),
        FlexibleRoute(
            "/v1/Contacts/{id}",
            {
                "GET": contacts.get_contact,
                "PUT": contacts.replace_contact,
                "DELETE": contacts.delete_contact,
            },
        ),
        FlexibleRoute(
            "/v1/ContactGroups", {"GET": groups.list_groups, "POST": groups.create_group}
        ),
        FlexibleRoute(
            "/v1/ContactGroups/{id}",
            {"GET": groups.get_group, "PUT": groups.rename_group, "DELETE": groups.delete_group},
        ),
        FlexibleRoute("/v1/ContactGroups/{id}/Contacts", {"POST": groups.add_contacts}),
        FlexibleRoute(
            "/v1/ContactGroups/{id}/Contacts/{contactId}", {"DELETE": groups.remove_contact}
        ),
        FlexibleRoute("/v1/Account", {"GET": account.get_account}),
        FlexibleRoute(
            "/v1/Account/Webhooks", {"GET": account.get_webhooks, "PUT": account.put_webhooks}
        ),
    ]
