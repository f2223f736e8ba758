"""Contact batches: field rules, batch limits, duplicates and contact ids."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contacthub.domain.contacts import (
    ContactDraft,
    find_duplicates,
    parse_contact_batch,
    parse_contact_id,
)
from contacthub.domain.fields import FieldInvalid
from contacthub.errors import Problem


def contact(phone: Any = "+91 92000 00000", **fields: Any) -> dict[str, Any]:
    return {"phone_no": phone, "first_name": "Asha", "last_name": "Rao", **fields}


def parse(
    value: Any, default_region: str | None = None
) -> tuple[list[ContactDraft], list[Problem]]:
    return parse_contact_batch(value, default_region=default_region)


def only_problem(value: dict[str, Any]) -> Problem:
    drafts, problems = parse([value])
    assert drafts == []
    assert len(problems) == 1, problems
    return problems[0]


# --- the batch itself -------------------------------------------------------


def test_a_valid_contact_becomes_a_draft_in_stored_form() -> None:
    drafts, problems = parse(
        [
            contact(
                "+91 92000-00000",
                first_name="  Asha ",
                last_name="\tRao\n",
                email_id="Asha.Rao@Example.COM",
                company=" Acme Ltd ",
                job_title="CTO",
            )
        ]
    )
    assert problems == []
    assert drafts == [
        ContactDraft(
            phone_no="919200000000",
            first_name="Asha",
            last_name="Rao",
            email_id="Asha.Rao@example.com",
            company="Acme Ltd",
            job_title="CTO",
        )
    ]


def test_the_default_region_reaches_the_phone_rule() -> None:
    drafts, problems = parse([contact("92000 00000")], default_region="IN")
    assert problems == []
    assert drafts[0].phone_no == "919200000000"


def test_drafts_keep_input_order() -> None:
    drafts, problems = parse([contact(f"+91 92000 0000{i}") for i in range(3)])
    assert problems == []
    assert [d.phone_no for d in drafts] == ["919200000000", "919200000001", "919200000002"]


@pytest.mark.parametrize(
    ("value", "msg"),
    [
        pytest.param(None, "is required", id="missing"),
        pytest.param([], "must hold 1 to 100 elements, not 0", id="empty"),
        pytest.param(
            [contact(f"+1 415 555 {i:04d}") for i in range(101)],
            "must hold 1 to 100 elements, not 101",
            id="101",
        ),
        pytest.param({"phone_no": "+919200000000"}, "must be an array", id="object"),
        pytest.param("+919200000000", "must be an array", id="string"),
        pytest.param(7, "must be an array", id="number"),
        pytest.param(True, "must be an array", id="bool"),
    ],
)
def test_a_batch_that_is_not_1_to_100_elements_is_one_problem(value: Any, msg: str) -> None:
    drafts, problems = parse(value)
    assert drafts == []
    assert len(problems) == 1
    # The batch as a whole is wrong, so the problem names no element.
    assert problems[0].field == "contacts"
    assert problems[0].index is None
    assert msg in problems[0].msg


def test_one_hundred_elements_is_the_largest_batch() -> None:
    drafts, problems = parse([contact(f"+1 415 555 {i:04d}") for i in range(100)])
    assert problems == []
    assert len(drafts) == 100


def test_non_object_elements_are_named_by_index() -> None:
    drafts, problems = parse([contact(), "x", None, [contact()], 5])
    assert len(drafts) == 1
    assert problems == [
        Problem("contacts", "must be a JSON object", 1),
        Problem("contacts", "must be a JSON object", 2),
        Problem("contacts", "must be a JSON object", 3),
        Problem("contacts", "must be a JSON object", 4),
    ]


def test_an_unknown_field_is_named_with_its_index() -> None:
    # A misspelt field must never be dropped silently.
    drafts, problems = parse([contact(), contact("+1 415 555 2671", emial_id="a@b.com")])
    assert [d.phone_no for d in drafts] == ["919200000000"]
    assert problems == [Problem("emial_id", "unknown field", 1)]


def test_contact_id_is_not_a_field_one_can_send_on_add() -> None:
    problem = only_problem(contact(contact_id=str(uuid.uuid4())))
    assert (problem.field, problem.msg) == ("contact_id", "unknown field")


def test_every_bad_field_of_every_element_is_reported_at_once() -> None:
    batch = [
        contact(),
        {
            "phone_no": "+91 92000",
            "last_name": "x" * 101,
            "email_id": "not-an-address",
            "company": 42,
            "job_title": "y" * 201,
            "nick": "A",
        },
        contact(first_name=""),
    ]
    drafts, problems = parse(batch)
    assert [d.phone_no for d in drafts] == ["919200000000"]
    found = {(p.index, p.field): p.msg for p in problems}
    assert len(found) == len(problems) == 8
    # The validator's own wording follows the contract's key phrase.
    assert found.pop((1, "email_id")).startswith("is not a valid email address")
    assert found == {
        (1, "nick"): "unknown field",
        (1, "phone_no"): "is not a valid phone number",
        (1, "first_name"): "is required",
        (1, "last_name"): "must be at most 100 characters",
        (1, "company"): "must be a string or null",
        (1, "job_title"): "must be at most 200 characters",
        (2, "first_name"): "must not be empty",
    }


def test_phone_no_is_required_on_add() -> None:
    body = contact()
    del body["phone_no"]
    assert only_problem(body) == Problem("phone_no", "is required", 0)
    assert only_problem(contact(None)) == Problem("phone_no", "is required", 0)


# --- names ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize(
    ("value", "msg"),
    [
        pytest.param(None, "is required", id="null"),
        pytest.param("", "must not be empty", id="empty"),
        pytest.param(" \t\n ", "must not be empty", id="blank"),
        pytest.param(12, "must be a string", id="number"),
        pytest.param(["Asha"], "must be a string", id="list"),
    ],
)
def test_names_are_required_strings(field: str, value: Any, msg: str) -> None:
    body = contact()
    if value is None:
        del body[field]
    else:
        body[field] = value
    assert only_problem(body) == Problem(field, msg, 0)


def test_explicit_null_name_is_required_too() -> None:
    assert only_problem(contact(first_name=None)) == Problem("first_name", "is required", 0)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a" * 100, id="ascii-100"),
        # 100 code points: 400 bytes in UTF-8, 200 units in UTF-16.
        pytest.param("😀" * 100, id="emoji-100"),
        pytest.param("张" * 100, id="cjk-100"),
        pytest.param("  " + "ب" * 100 + "  ", id="arabic-100-after-trim"),
    ],
)
def test_names_of_100_code_points_are_accepted(name: str) -> None:
    drafts, problems = parse([contact(first_name=name)])
    assert problems == []
    assert drafts[0].first_name == name.strip()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a" * 101, id="ascii-101"),
        pytest.param("😀" * 101, id="emoji-101"),
        pytest.param("张" * 101, id="cjk-101"),
        # e + combining acute is two code points, whatever it looks like.
        pytest.param("e\u0301" * 51, id="combining-102"),
    ],
)
def test_names_over_100_code_points_are_refused(name: str) -> None:
    assert only_problem(contact(last_name=name)) == Problem(
        "last_name", "must be at most 100 characters", 0
    )


@pytest.mark.parametrize(
    "name",
    [
        "José Núñez",
        "Ελένη",
        "Алексей",
        "أحمد",
        "דוד",
        "प्रिया",
        "தமிழ்",
        "李小龍",
        "さくら",
        "김민준",
        "ሰላም",
        "O'Brien-Smith Jr.",
        "👩‍👩‍👧",
    ],
)
def test_names_in_any_script_are_accepted(name: str) -> None:
    drafts, problems = parse([contact(first_name=name, last_name=name)])
    assert problems == []
    assert (drafts[0].first_name, drafts[0].last_name) == (name, name)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("As\x00ha", id="nul-inside"),
        pytest.param("\x00Asha", id="nul-leading"),
        pytest.param("Asha\x00", id="nul-trailing"),
        pytest.param("As\nha", id="newline-inside"),
        pytest.param("As\tha", id="tab-inside"),
        pytest.param("As\x1bha", id="escape"),
        pytest.param("As\x7fha", id="delete"),
        pytest.param("As\x9bha", id="c1-control"),
        pytest.param("As\ud800ha", id="lone-surrogate"),
    ],
)
def test_control_characters_are_refused(name: str) -> None:
    assert only_problem(contact(first_name=name)) == Problem(
        "first_name", "must not contain control characters", 0
    )


# --- company and job title --------------------------------------------------


@pytest.mark.parametrize("field", ["company", "job_title"])
@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"], ids=["null", "empty", "blank", "ws"])
def test_absent_organisation_fields_become_none(field: str, value: Any) -> None:
    drafts, problems = parse([contact(**{field: value})])
    assert problems == []
    assert getattr(drafts[0], field) is None


@pytest.mark.parametrize("field", ["company", "job_title"])
def test_organisation_fields_are_trimmed_and_capped_at_200(field: str) -> None:
    drafts, problems = parse([contact(**{field: " " + "é" * 200 + " "})])
    assert problems == []
    assert getattr(drafts[0], field) == "é" * 200

    assert only_problem(contact(**{field: "é" * 201})) == Problem(
        field, "must be at most 200 characters", 0
    )


@pytest.mark.parametrize("field", ["company", "job_title"])
@pytest.mark.parametrize("value", [0, False, ["Acme"], {"name": "Acme"}])
def test_organisation_fields_must_be_strings(field: str, value: Any) -> None:
    assert only_problem(contact(**{field: value})) == Problem(field, "must be a string or null", 0)


def test_organisation_fields_refuse_control_characters() -> None:
    assert only_problem(contact(company="Ac\x00me")) == Problem(
        "company", "must not contain control characters", 0
    )


# --- duplicates -------------------------------------------------------------

A, B, C = "919200000000", "14155552671", "442079460000"
STORED_ID = "0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b"


def test_no_duplicates() -> None:
    assert find_duplicates([A, B, C], {}) == []
    assert find_duplicates([A], {B: STORED_ID}) == []


def test_repeats_within_the_batch_point_at_the_first_element() -> None:
    # The third A points at index 0, not at the second A (index 2).
    assert find_duplicates([A, B, A, A, B], {}) == [
        {"index": 2, "phone_no": A, "duplicate_of_index": 0},
        {"index": 3, "phone_no": A, "duplicate_of_index": 0},
        {"index": 4, "phone_no": B, "duplicate_of_index": 1},
    ]


def test_stored_numbers_name_the_stored_contact() -> None:
    assert find_duplicates([B, A], {A: STORED_ID}) == [
        {"index": 1, "phone_no": A, "contact_id": STORED_ID},
    ]


def test_stored_and_repeated_duplicates_come_in_batch_order() -> None:
    other_id = "0190a7b2-5c3e-7d4f-8a1b-000000000001"
    duplicates = find_duplicates([C, A, B, C, B, A], {A: STORED_ID, B: other_id})
    assert duplicates == [
        {"index": 1, "phone_no": A, "contact_id": STORED_ID},
        {"index": 2, "phone_no": B, "contact_id": other_id},
        {"index": 3, "phone_no": C, "duplicate_of_index": 0},
        # Repeats point at the batch's first occurrence even for stored numbers.
        {"index": 4, "phone_no": B, "duplicate_of_index": 2},
        {"index": 5, "phone_no": A, "duplicate_of_index": 1},
    ]


# --- contact ids ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (STORED_ID, STORED_ID),
        (STORED_ID.upper(), STORED_ID),
        ("0190A7B2-5c3e-7D4F-8a1b-2C3D4E5F6A7B", STORED_ID),
        ("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_canonical_uuids_in_any_case_are_returned_lower_case(value: str, expected: str) -> None:
    assert parse_contact_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{" + STORED_ID + "}", id="braces"),
        pytest.param("urn:uuid:" + STORED_ID, id="urn"),
        pytest.param(STORED_ID.replace("-", ""), id="no-hyphens"),
        pytest.param(" " + STORED_ID, id="leading-space"),
        pytest.param(STORED_ID + "\n", id="trailing-newline"),
        pytest.param(STORED_ID[:-1], id="one-short"),
        pytest.param(STORED_ID + "0", id="one-long"),
        pytest.param(STORED_ID[:-1] + "g", id="non-hex"),
        pytest.param("0190a7b25c3e-7d4f-8a1b-2c3d-4e5f6a7b", id="wrong-grouping"),
        pytest.param("０190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b", id="fullwidth-digit"),
        pytest.param("", id="empty"),
    ],
)
def test_other_spellings_of_a_uuid_are_refused(value: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        parse_contact_id(value)
    assert caught.value.msg.startswith("must be a UUID")


@pytest.mark.parametrize(
    ("value", "msg"),
    [
        (None, "is required"),
        (12345, "must be a string"),
        (uuid.UUID(STORED_ID), "must be a string"),
        ([STORED_ID], "must be a string"),
        (True, "must be a string"),
    ],
)
def test_non_string_contact_ids_are_refused(value: Any, msg: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        parse_contact_id(value)
    assert caught.value.msg == msg
