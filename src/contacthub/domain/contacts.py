"""What a contact is, which batches are acceptable, and what counts as a duplicate."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contacthub.domain.emails import normalise_email
from contacthub.domain.fields import FieldInvalid, is_absent, optional_text, required_text
from contacthub.domain.phones import normalise_phone
from contacthub.errors import DuplicateContacts, InvalidRequest, Problem

MAX_BATCH = 100
NAME_MAX_LENGTH = 100
ORGANISATION_TEXT_MAX_LENGTH = 200
CONTACT_FIELDS = ("phone_no", "first_name", "last_name", "email_id", "company", "job_title")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """A contact that passed every field rule, in stored form."""

    phone_no: str
    first_name: str
    last_name: str
    email_id: str | None = None
    company: str | None = None
    job_title: str | None = None
    # The fields the request named: an upsert changes only these.
    given: frozenset[str] = frozenset(CONTACT_FIELDS)


def _field_rules(default_region: str | None) -> dict[str, Callable[[Any], Any]]:
    return {
        "phone_no": lambda value: normalise_phone(value, default_region),
        "first_name": lambda value: required_text(value, max_length=NAME_MAX_LENGTH),
        "last_name": lambda value: required_text(value, max_length=NAME_MAX_LENGTH),
        "email_id": normalise_email,
        "company": lambda value: optional_text(value, max_length=ORGANISATION_TEXT_MAX_LENGTH),
        "job_title": lambda value: optional_text(value, max_length=ORGANISATION_TEXT_MAX_LENGTH),
    }


def batch_items(value: Any, *, field: str) -> list[Any]:
    """The elements of a batch field, which must be an array of 1 to MAX_BATCH."""
    if value is None:
        raise InvalidBatch(field, "is required")
    if not isinstance(value, list):
        raise InvalidBatch(field, f"must be an array of 1 to {MAX_BATCH} elements")
    if not 1 <= len(value) <= MAX_BATCH:
        raise InvalidBatch(field, f"must hold 1 to {MAX_BATCH} elements, not {len(value)}")
    return value


class InvalidBatch(ValueError):
    def __init__(self, field: str, msg: str) -> None:
        super().__init__(msg)
        self.problem = Problem(field, msg)


def parse_contact_batch(
    value: Any, *, default_region: str | None
) -> tuple[list[ContactDraft], list[Problem]]:
    """Check every element of `contacts`; return the drafts and every problem found."""
    try:
        items = batch_items(value, field="contacts")
    except InvalidBatch as exc:
        return [], [exc.problem]
    rules = _field_rules(default_region)
    drafts: list[ContactDraft] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem("contacts", "must be a JSON object", index))
            continue
        cleaned, item_problems = _apply_rules(item, rules, index)
        problems.extend(item_problems)
        if not item_problems:
            drafts.append(ContactDraft(**cleaned, given=frozenset(item)))
    return drafts, problems


def parse_contact(values: Mapping[str, Any], *, default_region: str | None) -> ContactDraft:
    """One contact's fields (a form's), or InvalidRequest naming every bad field."""
    cleaned, problems = _apply_rules(values, _field_rules(default_region), None)
    InvalidRequest.raise_if(problems)
    return ContactDraft(**cleaned, given=frozenset(values))


def _apply_rules(
    item: Mapping[str, Any], rules: Mapping[str, Callable[[Any], Any]], index: int | None
) -> tuple[dict[str, Any], list[Problem]]:
    cleaned: dict[str, Any] = {}
    problems = [Problem(key, "unknown field", index) for key in item if key not in rules]
    for field, rule in rules.items():
        try:
            cleaned[field] = rule(item.get(field))
        except FieldInvalid as exc:
            problems.append(Problem(field, exc.msg, index))
    return cleaned, problems


def find_duplicates(phones: list[str], stored: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every element whose number is already stored or appeared earlier in the batch.

    `stored` maps a normalised number to the id of the contact holding it.
    Entries come in batch order, each naming the stored contact or the first
    element with the same number.
    """
    first_index: dict[str, int] = {}
    duplicates: list[dict[str, Any]] = []
    for index, phone in enumerate(phones):
        # A repeat within the batch is named as such even when the number is
        # also stored: under every policy it is what makes the batch a 409.
        if phone in first_index:
            duplicates.append(
                {"index": index, "phone_no": phone, "duplicate_of_index": first_index[phone]}
            )
            continue
        first_index[phone] = index
        if phone in stored:
            duplicates.append({"index": index, "phone_no": phone, "contact_id": stored[phone]})
    return duplicates


def parse_contact_id(value: Any) -> str:
    """A contact id: a UUID in its canonical 8-4-4-4-12 form, any case; returned lower-case."""
    if value is None:
        raise FieldInvalid("is required")
    if not isinstance(value, str):
        raise FieldInvalid("must be a string")
    if not _UUID.fullmatch(value):
        raise FieldInvalid("must be a UUID such as 0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b")
    return value.lower()


# --- adding: what happens to numbers already stored ---------------------------

DUPLICATE_POLICIES = ("error", "skip", "update")


@dataclass(frozen=True, slots=True)
class AddOptions:
    on_duplicate: str = "error"
    validate_only: bool = False


def parse_add_options(body: Mapping[str, Any]) -> tuple[AddOptions, list[Problem]]:
    problems: list[Problem] = []
    policy = body.get("on_duplicate")
    if policy is None:
        policy = "error"
    elif policy not in DUPLICATE_POLICIES:
        problems.append(Problem("on_duplicate", 'must be "error", "skip" or "update"'))
        policy = "error"
    validate_only = body.get("validate_only")
    if validate_only is None:
        validate_only = False
    elif not isinstance(validate_only, bool):
        problems.append(Problem("validate_only", "must be true or false"))
        validate_only = False
    return AddOptions(on_duplicate=policy, validate_only=validate_only), problems


@dataclass(frozen=True, slots=True)
class NewContacts:
    """`v3/contact/add` as a command: contacts that passed every field rule, and the options."""

    drafts: list[ContactDraft]
    options: AddOptions = AddOptions()


def parse_new_contacts(body: Mapping[str, Any], *, default_region: str | None) -> NewContacts:
    """An add's body as a command, or InvalidRequest listing every problem."""
    options, option_problems = parse_add_options(body)
    drafts, problems = parse_contact_batch(body.get("contacts"), default_region=default_region)
    InvalidRequest.raise_if(option_problems + problems)
    return NewContacts(drafts, options)


@dataclass(frozen=True, slots=True)
class AddPlan:
    """Per element, in batch order: "created", "skipped" or "updated", and the stored id if any."""

    statuses: list[str]
    existing_ids: list[str | None]


def plan_add(phones: list[str], stored: Mapping[str, str], policy: str) -> AddPlan:
    """Decide each element's fate, or raise DuplicateContacts.

    A number repeated inside the batch is refused under every policy; a
    number already stored is refused only under "error".
    """
    duplicates = find_duplicates(phones, stored)
    refused = [d for d in duplicates if policy == "error" or "duplicate_of_index" in d]
    if refused:
        raise DuplicateContacts(refused)
    kept = "skipped" if policy == "skip" else "updated"
    return AddPlan(
        statuses=[kept if phone in stored else "created" for phone in phones],
        existing_ids=[stored.get(phone) for phone in phones],
    )


# --- updating -----------------------------------------------------------------

REQUIRED_FIELDS = frozenset({"phone_no", "first_name", "last_name"})


@dataclass(frozen=True, slots=True)
class ContactPatch:
    """The changes to one stored contact: field → new value (None clears it)."""

    contact_id: str
    changes: dict[str, Any]


def parse_update_batch(
    value: Any, *, default_region: str | None
) -> tuple[list[ContactPatch], list[Problem]]:
    """Check every element of an update's `contacts`; return the patches and every problem."""
    try:
        items = batch_items(value, field="contacts")
    except InvalidBatch as exc:
        return [], [exc.problem]
    rules = _field_rules(default_region)
    patches: list[ContactPatch] = []
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem("contacts", "must be a JSON object", index))
            continue
        item_problems = [
            Problem(key, "unknown field", index)
            for key in item
            if key not in rules and key != "contact_id"
        ]
        contact_id = None
        try:
            contact_id = parse_contact_id(item.get("contact_id"))
        except FieldInvalid as exc:
            item_problems.append(Problem("contact_id", exc.msg, index))
        if contact_id is not None and contact_id in first_index:
            item_problems.append(
                Problem(
                    "contact_id", f"appears twice (first at index {first_index[contact_id]})", index
                )
            )
        elif contact_id is not None:
            first_index[contact_id] = index
        changes: dict[str, Any] = {}
        for field, rule in rules.items():
            if field not in item:
                continue
            if field in REQUIRED_FIELDS and is_absent(item[field]):
                item_problems.append(Problem(field, "is required and cannot be cleared", index))
                continue
            try:
                changes[field] = rule(item[field])
            except FieldInvalid as exc:
                item_problems.append(Problem(field, exc.msg, index))
        problems.extend(item_problems)
        if not item_problems and contact_id is not None:
            patches.append(ContactPatch(contact_id, changes))
    return patches, problems


@dataclass(frozen=True, slots=True)
class ContactChanges:
    """`v3/contact/update` as a command: the patches of the elements that passed every field
    rule, the id each element names, and the problems of the others. The problems are
    raised only once the named ids are looked up, so that an id that is not stored is
    listed with them, in batch order, as the contract asks."""

    patches: list[ContactPatch]
    named_ids: dict[int, str]
    problems: list[Problem]


def parse_contact_changes(body: Mapping[str, Any], *, default_region: str | None) -> ContactChanges:
    patches, problems = parse_update_batch(body.get("contacts"), default_region=default_region)
    return ContactChanges(patches, named_contact_ids(body.get("contacts")), problems)


def changes_to_one(
    contact_id: str, values: Mapping[str, Any], *, default_region: str | None
) -> ContactChanges:
    """A form's changes to one contact, as a command."""
    item = {**values, "contact_id": contact_id}
    return parse_contact_changes({"contacts": [item]}, default_region=default_region)


def named_contact_ids(value: Any) -> dict[int, str]:
    """Index → id of each update element naming a well-formed id first named there.

    Lets the caller report unknown ids together with the other problems of a batch.
    """
    named: dict[int, str] = {}
    try:
        items = batch_items(value, field="contacts")
    except InvalidBatch:
        return named
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        try:
            contact_id = parse_contact_id(item.get("contact_id"))
        except FieldInvalid:
            continue
        if contact_id not in named.values():
            named[index] = contact_id
    return named


def find_update_duplicates(
    patches: list[ContactPatch], holders: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Elements whose new number another contact holds, or an earlier element also takes.

    `holders` maps a stored number to the contact holding it; a contact
    keeping its own number is no conflict.
    """
    first_index: dict[str, int] = {}
    duplicates: list[dict[str, Any]] = []
    for index, patch in enumerate(patches):
        phone = patch.changes.get("phone_no")
        if phone is None:
            continue
        holder = holders.get(phone)
        if holder is not None and holder != patch.contact_id:
            duplicates.append({"index": index, "phone_no": phone, "contact_id": holder})
        elif phone in first_index:
            duplicates.append(
                {"index": index, "phone_no": phone, "duplicate_of_index": first_index[phone]}
            )
        else:
            first_index[phone] = index
    return duplicates


# --- deleting -----------------------------------------------------------------


def parse_deletion(body: Mapping[str, Any]) -> list[str]:
    """A delete's body as the distinct ids to delete, or InvalidRequest."""
    ids, problems = parse_contact_ids(body.get("contact_ids"))
    InvalidRequest.raise_if(problems)
    return ids


def parse_contact_ids(value: Any) -> tuple[list[str], list[Problem]]:
    """The distinct ids of a delete's `contact_ids`, and a problem for each malformed one."""
    try:
        items = batch_items(value, field="contact_ids")
    except InvalidBatch as exc:
        return [], [exc.problem]
    ids: dict[str, None] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            ids[parse_contact_id(item)] = None
        except FieldInvalid as exc:
            problems.append(Problem("contact_ids", exc.msg, index))
    return list(ids), problems
