"""Contacts and groups in memory: each account's address book, with the phone,
opt-out and membership indexes its reads need."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.groups import Group
from mock_puresms.domain.queries import ContactQuery, GroupQuery, Page, paginate


class AddressBook:
    """One account's contacts and groups."""

    __slots__ = ("by_phone", "contacts", "groups", "members", "opted_out")

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}  # by id, in creation order
        self.by_phone: dict[str, Contact] = {}
        # Derived from the contacts, so a send checks each phone with one set lookup.
        self.opted_out: set[str] = set()
        self.groups: dict[str, Group] = {}  # by id, in creation order
        self.members: dict[str, set[str]] = {}  # group id -> contact ids

    def put_contact(self, contact: Contact) -> None:
        old = self.contacts.get(contact.id)
        if old is not None:
            self._unindex(old, keep=contact.group_ids)
        self.contacts[contact.id] = contact
        self.by_phone[contact.phone_number] = contact
        if contact.opted_out:
            self.opted_out.add(contact.phone_number)
        for group_id in contact.group_ids:
            self.members.setdefault(group_id, set()).add(contact.id)

    def remove_contact(self, contact_id: str) -> bool:
        old = self.contacts.pop(contact_id, None)
        if old is None:
            return False
        self._unindex(old, keep=())
        return True

    def _unindex(self, old: Contact, keep: tuple[str, ...]) -> None:
        if self.by_phone.get(old.phone_number) is old:
            del self.by_phone[old.phone_number]
        self.opted_out.discard(old.phone_number)
        for group_id in old.group_ids:
            if group_id not in keep and (members := self.members.get(group_id)) is not None:
                members.discard(old.id)

    def counted(self, group: Group) -> Group:
        """The group as stored, with its current member count."""
        count = len(self.members.get(group.id, ()))
        return group if group.contact_count == count else replace(group, contact_count=count)


def _search(text: str) -> Callable[[Contact], bool]:
    """A case-insensitive substring test on the names, email and phone number."""
    needle = text.casefold()
    digits = needle.removeprefix("+")

    def matches(contact: Contact) -> bool:
        return (
            (bool(digits) and digits in contact.phone_number)
            or needle in (contact.first_name or "").casefold()
            or needle in (contact.last_name or "").casefold()
            or needle in (contact.email or "").casefold()
        )

    return matches


class AddressBooks:
    """Every account's address book, made on first write."""

    def __init__(self) -> None:
        self._books: dict[str, AddressBook] = {}

    def _book(self, account_id: str) -> AddressBook:
        book = self._books.get(account_id)
        if book is None:
            book = self._books[account_id] = AddressBook()
        return book

    def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        book = self._books.get(account_id)
        if book is None or not book.opted_out:
            return set()
        return book.opted_out.intersection(phones)

    def get_contact(self, account_id: str, contact_id: str) -> Contact | None:
        book = self._books.get(account_id)
        return book.contacts.get(contact_id) if book is not None else None

    def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        book = self._books.get(account_id)
        if book is None:
            return {}
        contacts = book.contacts
        return {cid: contacts[cid] for cid in contact_ids if cid in contacts}

    def by_phone(self, account_id: str, phones: Iterable[str]) -> dict[str, Contact]:
        book = self._books.get(account_id)
        if book is None or not book.by_phone:
            return {}
        by_phone = book.by_phone
        return {phone: by_phone[phone] for phone in phones if phone in by_phone}

    def save(self, contacts: Sequence[Contact], groups: Sequence[Group] = ()) -> None:
        for contact in contacts:
            self._book(contact.account_id).put_contact(contact)
        for group in groups:
            self._book(group.account_id).groups[group.id] = group

    def delete_contact(self, account_id: str, contact_id: str) -> bool:
        book = self._books.get(account_id)
        return book is not None and book.remove_contact(contact_id)

    def query_contacts(self, query: ContactQuery) -> Page[Contact]:
        book = self._books.get(query.account_id)
        contacts = reversed(book.contacts.values()) if book is not None else iter(())
        checks: list[Callable[[Contact], bool]] = []
        if query.group_id is not None:
            checks.append(lambda c: query.group_id in c.group_ids)
        if query.opted_out is not None:
            checks.append(lambda c: c.opted_out == query.opted_out)
        if query.search is not None:
            checks.append(_search(query.search))
        matches = (c for c in contacts if all(check(c) for check in checks))
        return paginate(matches, query.page, query.page_size)

    def group_contacts(self, account_id: str, group_id: str) -> list[Contact]:
        book = self._books.get(account_id)
        members = book.members.get(group_id) if book is not None else None
        if book is None or not members:
            return []
        # Creation order, from the account's contacts: a set of ids keeps none.
        return [c for c in book.contacts.values() if c.id in members]

    def get_group(self, account_id: str, group_id: str) -> Group | None:
        book = self._books.get(account_id)
        group = book.groups.get(group_id) if book is not None else None
        return book.counted(group) if book is not None and group is not None else None

    def query_groups(self, query: GroupQuery) -> Page[Group]:
        book = self._books.get(query.account_id)
        if book is None:
            return paginate((), query.page, query.page_size)
        page = paginate(reversed(book.groups.values()), query.page, query.page_size)
        return replace(page, items=[book.counted(group) for group in page.items])

    def delete_group(self, account_id: str, group_id: str, contacts: Sequence[Contact]) -> None:
        book = self._book(account_id)
        for contact in contacts:
            book.put_contact(contact)
        book.groups.pop(group_id, None)
        book.members.pop(group_id, None)

    def reset(self, account_id: str) -> None:
        """Forget one account's contacts and groups."""
        self._books.pop(account_id, None)
