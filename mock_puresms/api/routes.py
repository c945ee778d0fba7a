"""The PureSMS v1 route table."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_puresms.api import account, replies, sms
from mock_puresms.api.routing import FlexibleRoute


def v1_routes() -> list[BaseRoute]:
    # Batch routes come first: "/v1/Sms/Batch/x" would otherwise match "/v1/Sms/{reference}".
    return [
        FlexibleRoute("/v1/Sms/Send", {"POST": sms.send}),
        FlexibleRoute("/v1/Sms/SendBulk", {"POST": sms.send_bulk}),
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
        FlexibleRoute("/v1/Account", {"GET": account.get_account}),
        FlexibleRoute(
            "/v1/Account/Webhooks", {"GET": account.get_webhooks, "PUT": account.put_webhooks}
        ),
    ]
