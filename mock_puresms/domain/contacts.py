"""Contacts: the address book of section 5, the source of truth for opt-outs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.messages import new_reference, new_references

if TYPE_CHECKING:
    # The port speaks of contacts: importing it at run time would be circular.
    from mock_puresms.domain.ports import ContactStore


@dataclass(slots=True)
class Contact:
    """A stored contact; times are mock-clock epoch milliseconds.

    Contacts are values, never changed once made: a change is a new ``Contact``
    (``dataclasses.replace``) handed to the store, which needs the previous value to keep
    its phone and group indexes. Not ``frozen`` only because a frozen dataclass is several
    times slower to build, and an import builds 15,000.
    """

    id: str
    account_id: str
    phone_number: str
    first_name: str | None
    last_name: str | None
    email: str | None
    custom: Mapping[str, str]
    group_ids: tuple[str, ...]
    opted_out: bool
    created_at: int
    updated_at: int


@dataclass(slots=True)
class ContactDraft:
    """Validated contact fields from a request; ``opted_out=None`` keeps the current value."""

    phone_number: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    custom: Mapping[str, str] = field(default_factory=dict)
    opted_out: bool | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def new_contact_id() -> str:
    return new_reference("C")


def _duplicate(phone: str) -> Conflict:
    return Conflict(f"Another contact of this account has the phone number {phone}.")


class ContactService:
    """Creates, replaces, imports and deletes contacts, and records opt-outs."""

    def __init__(self, store: ContactStore, now: Callable[[], int]) -> None:
        self._store = store
        self._now = now

    async def get(self, account_id: str, contact_id: str) -> Contact:
        contact = await self._store.get_contact(account_id, contact_id)
        if contact is None:
            raise NotFound(f"No contact with id '{contact_id}'.")
        return contact

    async def create(self, account_id: str, draft: ContactDraft) -> Contact:
        """A new contact; ``Conflict`` when the account has one with that number."""
        phone = draft.phone_number
        if await self._store.contacts_by_phone(account_id, [phone]):
            raise _duplicate(phone)
        now = self._now()
        contact = _new(new_contact_id(), account_id, draft, now)
        await self._store.save_contacts([contact])
        return contact

    async def replace(self, account_id: str, contact_id: str, draft: ContactDraft) -> Contact:
        """Full replace of the fields; id, groups and creation time stay.

        An absent ``optedOut`` keeps the current value, so a client that does not know
        about opt-outs cannot opt a phone back in by accident.
        """
        current = await self.get(account_id, contact_id)
        holder = (await self._store.contacts_by_phone(account_id, [draft.phone_number])).get(
            draft.phone_number
        )
        if holder is not None and holder.id != contact_id:
            raise _duplicate(draft.phone_number)
        contact = _replaced(current, draft, self._now())
        await self._store.save_contacts([contact])
        return contact

    async def delete(self, account_id: str, contact_id: str) -> None:
        if not await self._store.delete_contact(account_id, contact_id):
            raise NotFound(f"No contact with id '{contact_id}'.")

    async def import_contacts(
        self, account_id: str, drafts: Sequence[ContactDraft]
    ) -> ImportResult:
        """Create or update (by phone number) every draft, in order, as one write.

        A later draft with the same number as an earlier one updates what the earlier
        one wrote, and counts as an update.
        """
        existing = await self._store.contacts_by_phone(
            account_id, [draft.phone_number for draft in drafts]
        )
        now = self._now()
        ids = iter(new_references("C", len(drafts)))
        written: dict[str, Contact] = {}  # by phone: the last value wins
        created = updated = 0
        for draft in drafts:
            phone = draft.phone_number
            current = written.get(phone) or existing.get(phone)
            if current is None:
                written[phone] = _new(next(ids), account_id, draft, now)
                created += 1
            else:
                written[phone] = _replaced(current, draft, now)
                updated += 1
        await self._store.save_contacts(list(written.values()))
        return ImportResult(created, updated)

    async def set_opted_out(self, account_id: str, phone: str, opted_out: bool, at: int) -> None:
        """Record a STOP (``True``) or START (``False``) from ``phone``.

        A STOP from a number with no contact creates one, so the opt-out is visible
        and survives; a START from an unknown number changes nothing.
        """
        contact = (await self._store.contacts_by_phone(account_id, [phone])).get(phone)
        if contact is None:
            if opted_out:
                draft = ContactDraft(phone_number=phone, opted_out=True)
                await self._store.save_contacts([_new(new_contact_id(), account_id, draft, at)])
            return
        if contact.opted_out != opted_out:
            changed = dataclasses.replace(contact, opted_out=opted_out, updated_at=at)
            await self._store.save_contacts([changed])


def _new(contact_id: str, account_id: str, draft: ContactDraft, now: int) -> Contact:
    return Contact(
        id=contact_id,
        account_id=account_id,
        phone_number=draft.phone_number,
        first_name=draft.first_name,
        last_name=draft.last_name,
        email=draft.email,
        custom=draft.custom,
        group_ids=(),
        opted_out=bool(draft.opted_out),
        created_at=now,
        updated_at=now,
    )


def _replaced(current: Contact, draft: ContactDraft, now: int) -> Contact:
    return Contact(
        id=current.id,
        account_id=current.account_id,
        phone_number=draft.phone_number,
        first_name=draft.first_name,
        last_name=draft.last_name,
        email=draft.email,
        custom=draft.custom,
        group_ids=current.group_ids,
        opted_out=current.opted_out if draft.opted_out is None else draft.opted_out,
        created_at=current.created_at,
        updated_at=now,
    )
