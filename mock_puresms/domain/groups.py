"""Contact groups: named sets of an account's contacts, the audience of SendToGroup."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.errors import NotFound
from mock_puresms.domain.messages import new_reference

if TYPE_CHECKING:
    # The port speaks of groups: importing it at run time would be circular.
    from mock_puresms.domain.ports import GroupStore


@dataclass(frozen=True, slots=True)
class Group:
    """A stored group; times are mock-clock epoch milliseconds.

    Membership is kept on the contacts (``Contact.group_ids``); ``contact_count`` is
    filled in by the store on every read, and ignored when a group is saved.
    """

    id: str
    account_id: str
    name: str
    created_at: int
    updated_at: int
    contact_count: int = 0


class UnknownContacts(Exception):
    """Some of the contact ids given for a group are not contacts of the account."""

    def __init__(self, unknown: Sequence[tuple[int, str]]) -> None:
        super().__init__(", ".join(contact_id for _, contact_id in unknown))
        self.unknown = list(unknown)  # (position in the request, id)


class GroupService:
    """Creates, renames and deletes groups and changes their members.

    A membership change also bumps the ``updatedAt`` of each contact whose
    ``groupIds`` it changes, since that is part of the contact's representation.
    """

    def __init__(self, store: GroupStore, now: Callable[[], int]) -> None:
        self._store = store
        self._now = now

    async def get(self, account_id: str, group_id: str) -> Group:
        group = await self._store.get_group(account_id, group_id)
        if group is None:
            raise NotFound(f"No contact group with id '{group_id}'.")
        return group

    async def create(self, account_id: str, name: str) -> Group:
        now = self._now()
        group = Group(new_reference("G"), account_id, name, now, now)
        await self._store.save_group(group)
        return await self.get(account_id, group.id)

    async def rename(self, account_id: str, group_id: str, name: str) -> Group:
        group = await self.get(account_id, group_id)
        await self._store.save_group(dataclasses.replace(group, name=name, updated_at=self._now()))
        return await self.get(account_id, group_id)

    async def delete(self, account_id: str, group_id: str) -> None:
        """Delete a group; its contacts stay, without it in their ``groupIds``."""
        await self.get(account_id, group_id)
        now = self._now()
        left = [
            _without(contact, group_id, now)
            for contact in await self._store.group_contacts(account_id, group_id)
        ]
        await self._store.delete_group(account_id, group_id, left)

    async def add_contacts(
        self, account_id: str, group_id: str, contact_ids: Sequence[str]
    ) -> Group:
        """Add contacts (members already in stay as they are), all or none.

        Raises ``UnknownContacts`` naming every id that is not a contact of the account.
        """
        group = await self.get(account_id, group_id)
        found = await self._store.get_contacts(account_id, contact_ids)
        unknown = [(i, cid) for i, cid in enumerate(contact_ids) if cid not in found]
        if unknown:
            raise UnknownContacts(unknown)
        now = self._now()
        joined = [
            dataclasses.replace(c, group_ids=(*c.group_ids, group_id), updated_at=now)
            for c in found.values()
            if group_id not in c.group_ids
        ]
        if joined:
            await self._store.save_contacts(joined, [dataclasses.replace(group, updated_at=now)])
        return await self.get(account_id, group_id)

    async def remove_contact(self, account_id: str, group_id: str, contact_id: str) -> Group:
        """Take a contact out of a group; a contact that is not a member is left alone.

        ``NotFound`` when the group or the contact does not exist in the account.
        """
        group = await self.get(account_id, group_id)
        contact = await self._store.get_contact(account_id, contact_id)
        if contact is None:
            raise NotFound(f"No contact with id '{contact_id}'.")
        if group_id in contact.group_ids:
            now = self._now()
            await self._store.save_contacts(
                [_without(contact, group_id, now)], [dataclasses.replace(group, updated_at=now)]
            )
        return await self.get(account_id, group_id)

    async def members(self, account_id: str, group_id: str) -> list[Contact]:
        """The group's contacts, oldest contact first; ``NotFound`` for an unknown group."""
        await self.get(account_id, group_id)
        return await self._store.group_contacts(account_id, group_id)


def _without(contact: Contact, group_id: str, now: int) -> Contact:
    group_ids = tuple(g for g in contact.group_ids if g != group_id)
    return dataclasses.replace(contact, group_ids=group_ids, updated_at=now)
