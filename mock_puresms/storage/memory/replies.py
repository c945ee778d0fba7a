"""Inbound replies in memory: by reference, and per account in arrival order."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from mock_puresms.domain.queries import Page, ReplyQuery, paginate
from mock_puresms.domain.replies import Reply


class ReplyTable:
    """Every reply, by reference, and each account's replies oldest first."""

    def __init__(self) -> None:
        self._replies: dict[str, Reply] = {}
        self._accounts: dict[str, list[Reply]] = {}

    def add(self, reply: Reply) -> None:
        self._replies[reply.reference] = reply
        self._accounts.setdefault(reply.account_id, []).append(reply)

    def get(self, reference: str) -> Reply | None:
        return self._replies.get(reference)

    def query(self, query: ReplyQuery) -> Page[Reply]:
        replies = reversed(
            self._accounts.get(query.account_id, ())
            if query.account_id is not None
            else self._replies.values()  # every account's, in arrival order
        )
        matches = (
            r
            for r in replies
            if (query.from_ is None or r.from_ == query.from_)
            and (query.in_reply_to is None or r.in_reply_to == query.in_reply_to)
            and (query.since is None or r.received_at >= query.since)
        )
        return paginate(matches, query.page, query.page_size)

    def prunable(self, received_before: int | None, max_replies: int | None = None) -> list[Reply]:
        """The replies retention removes: those received before ``received_before``, and
        the oldest beyond ``max_replies`` (``--max-messages`` bounds replies too)."""
        excess = len(self._replies) - max_replies if max_replies is not None else 0
        if received_before is None:
            if excess <= 0:
                return []
            return list(itertools.islice(self._replies.values(), excess))  # oldest first
        doomed: list[Reply] = []
        for reply in self._replies.values():
            if excess > 0 or reply.received_at < received_before:
                doomed.append(reply)
                excess -= 1
        return doomed

    def forget(self, replies: Sequence[Reply]) -> None:
        touched: set[str] = set()
        for reply in replies:
            if self._replies.pop(reply.reference, None) is not None:
                touched.add(reply.account_id)
        for account_id in touched:
            kept = [r for r in self._accounts.get(account_id, ()) if r.reference in self._replies]
            self._accounts[account_id] = kept

    def reset(self, account_id: str) -> None:
        """Forget one account's replies."""
        for reply in self._accounts.pop(account_id, ()):
            self._replies.pop(reply.reference, None)
