"""Duplicate policies on add, update batches, and delete batches."""

from __future__ import annotations

from typing import Any

import pytest

from contacthub.domain.contacts import (
    AddOptions,
    ContactPatch,
    find_update_duplicates,
    named_contact_ids,
    parse_add_options,
    parse_contact_batch,
    parse_contact_ids,
    parse_update_batch,
    plan_add,
)
from contacthub.errors import DuplicateContacts, Problem

A = "0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b"
B = "0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7c"


@pytest.mark.parametrize(
    ("body", "options", "fields"),
    [
        ({}, AddOptions("error", False), []),
        ({"on_duplicate": None, "validate_only": None}, AddOptions("error", False), []),
        ({"on_duplicate": "skip", "validate_only": True}, AddOptions("skip", True), []),
        ({"on_duplicate": "update"}, AddOptions("update", False), []),
        ({"on_duplicate": "UPDATE"}, AddOptions("error", False), ["on_duplicate"]),
        (
            {"on_duplicate": 1, "validate_only": "yes"},
            AddOptions(),
            ["on_duplicate", "validate_only"],
        ),
    ],
)
def test_parse_add_options(body: dict, options: AddOptions, fields: list[str]) -> None:
    parsed, problems = parse_add_options(body)
    assert parsed == options
    assert [problem.field for problem in problems] == fields


def test_plan_under_each_policy() -> None:
    phones = ["911", "912"]
    stored = {"911": A}
    with pytest.raises(DuplicateContacts) as caught:
        plan_add(phones, stored, "error")
    assert caught.value.duplicates == [{"index": 0, "phone_no": "911", "contact_id": A}]
    assert plan_add(phones, stored, "skip").statuses == ["skipped", "created"]
    assert plan_add(phones, stored, "update").statuses == ["updated", "created"]
    assert plan_add(phones, stored, "update").existing_ids == [A, None]


@pytest.mark.parametrize("policy", ["error", "skip", "update"])
def test_a_number_repeated_in_the_batch_is_refused_under_every_policy(policy: str) -> None:
    with pytest.raises(DuplicateContacts) as caught:
        plan_add(["911", "912", "912"], {"911": A}, policy)
    repeated = {"index": 2, "phone_no": "912", "duplicate_of_index": 1}
    assert repeated in caught.value.duplicates


def test_add_remembers_which_fields_were_given() -> None:
    drafts, _ = parse_contact_batch(
        [{"phone_no": "919200000000", "first_name": "A", "last_name": "B", "company": None}],
        default_region=None,
    )
    assert drafts[0].given == {"phone_no", "first_name", "last_name", "company"}


def test_update_batch_keeps_only_the_given_fields() -> None:
    patches, problems = parse_update_batch(
        [{"contact_id": A.upper(), "phone_no": "+91 92000 00000", "company": "", "email_id": None}],
        default_region=None,
    )
    assert problems == []
    assert patches == [
        ContactPatch(A, {"phone_no": "919200000000", "company": None, "email_id": None})
    ]


@pytest.mark.parametrize(
    ("item", "field", "msg"),
    [
        ({"first_name": None}, "first_name", "is required and cannot be cleared"),
        ({"last_name": ""}, "last_name", "is required and cannot be cleared"),
        ({"phone_no": None}, "phone_no", "is required and cannot be cleared"),
        ({"phone_no": "12"}, "phone_no", "is not a valid phone number"),
        ({"nickname": "x"}, "nickname", "unknown field"),
    ],
)
def test_bad_update_elements(item: dict[str, Any], field: str, msg: str) -> None:
    _, problems = parse_update_batch([{"contact_id": A, **item}], default_region=None)
    assert problems == [Problem(field, msg, 0)]


def test_update_needs_a_well_formed_distinct_contact_id() -> None:
    _, problems = parse_update_batch(
        [{"first_name": "x"}, {"contact_id": "nope"}, {"contact_id": A}, {"contact_id": A.upper()}],
        default_region=None,
    )
    assert [(p.index, p.field) for p in problems] == [
        (0, "contact_id"),
        (1, "contact_id"),
        (3, "contact_id"),
    ]
    assert problems[2].msg == "appears twice (first at index 2)"


def test_update_duplicates_against_stored_and_within_the_batch() -> None:
    patches = [
        ContactPatch(A, {"phone_no": "911"}),  # its own number: fine
        ContactPatch(B, {"phone_no": "911"}),  # A holds it
        ContactPatch("c", {"phone_no": "913"}),
        ContactPatch("d", {"phone_no": "913"}),
        ContactPatch("e", {"first_name": "x"}),
    ]
    assert find_update_duplicates(patches, {"911": A}) == [
        {"index": 1, "phone_no": "911", "contact_id": A},
        {"index": 3, "phone_no": "913", "duplicate_of_index": 2},
    ]


def test_delete_ids_are_checked_and_deduplicated() -> None:
    assert parse_contact_ids([A, A.upper(), B]) == ([A, B], [])
    ids, problems = parse_contact_ids([A, "x", 5])
    assert ids == [A]
    assert [(p.index, p.field) for p in problems] == [(1, "contact_ids"), (2, "contact_ids")]
    for bad in ([], [A] * 101, None, A):
        assert parse_contact_ids(bad)[1][0].field == "contact_ids"


def test_named_contact_ids_are_the_first_well_formed_ones() -> None:
    items = [
        {"contact_id": A},
        {"contact_id": "nope"},
        "x",
        {"contact_id": A.upper()},
        {"contact_id": B},
    ]
    assert named_contact_ids(items) == {0: A, 4: B}
    assert named_contact_ids([{"contact_id": A}] * 101) == {}
    assert named_contact_ids(None) == {}
