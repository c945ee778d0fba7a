"""Domain objects as the camelCase JSON of the v1 surface."""

from __future__ import annotations

from typing import Any

from mock_puresms.domain.accounts import Account, WebhookSettings
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.queries import Page
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.timestamps import format_ms


def message_json(message: Message) -> dict[str, Any]:
    created_at = format_ms(message.created_at)
    # Most histories start at creation: its timestamp is rendered once.
    history = [
        {
            "deliveryStatus": int(entry.status),
            "deliveryStatusName": entry.status.label,
            "at": created_at if entry.at == message.created_at else format_ms(entry.at),
        }
        for entry in message.history
    ]
    return {
        "reference": message.reference,
        "clientReference": message.client_reference,
        "batchReference": message.batch_reference,
        "to": message.to,
        "from": message.sender,
        "content": message.content,
        "isTest": message.is_test,
        "segments": message.segments,
        "encoding": message.encoding,
        "deliveryStatus": int(message.status),
        "deliveryStatusName": message.status.label,
        "deliveryReceiptUrl": message.receipt_url,
        "sendAt": format_ms(message.send_at) if message.send_at is not None else None,
        "createdAt": created_at,
        "updatedAt": history[-1]["at"] if history else created_at,
        "history": history,
    }


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "reference": reply.reference,
        "inReplyTo": reply.in_reply_to,
        "clientReference": reply.client_reference,
        "batchReference": reply.batch_reference,
        "from": reply.from_,
        "to": reply.to,
        "content": reply.content,
        "receivedAt": format_ms(reply.received_at),
    }


def batch_json(summary: BatchSummary) -> dict[str, Any]:
    return {
        "batchReference": summary.batch_reference,
        "count": summary.count,
        "createdAt": format_ms(summary.created_at),
        "statusCounts": summary.status_counts,
    }


def webhooks_json(webhooks: WebhookSettings) -> dict[str, Any]:
    return {
        "deliveryReceiptUrl": webhooks.delivery_receipt_url,
        "replyUrl": webhooks.reply_url,
        "secret": webhooks.secret,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "credits": account.credits,
        "webhooks": webhooks_json(account.webhooks),
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "phoneNumber": contact.phone_number,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "custom": dict(contact.custom),
        "groupIds": list(contact.group_ids),
        "optedOut": contact.opted_out,
        "createdAt": format_ms(contact.created_at),
        "updatedAt": format_ms(contact.updated_at),
    }


def group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "contactCount": group.contact_count,
        "createdAt": format_ms(group.created_at),
        "updatedAt": format_ms(group.updated_at),
    }


def page_json(page: Page[Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "page": page.page,
        "pageSize": page.page_size,
        "totalCount": page.total_count,
    }
