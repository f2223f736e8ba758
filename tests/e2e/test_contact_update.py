"""`v3/contact/update`: every rule of the contract and of the project's decisions."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Org, Server, contact
from tests.e2e.test_envelope import assert_envelope

FULL = {
    "phone_no": "919200000201",
    "first_name": "John",
    "last_name": "Doe",
    "email_id": "john.doe@example.com",
    "company": "Acme Corp",
    "job_title": "Software Engineer",
}
DUPLICATE_MSG = "Duplicate contact detected within the organization"


def update(org: Org, contacts: Any, **extra: Any) -> httpx.Response:
    return org.post("/v3/contact/update", {"token": org.token, "contacts": contacts, **extra})


def add_ids(org: Org, contacts: list[dict[str, Any]]) -> list[str]:
    response = org.add(contacts)
    assert response.status_code == 200, response.text
    return [item["contact_id"] for item in response.json()["contacts"]]


def stored(org: Org, contact_id: str) -> dict[str, Any]:
    [found] = org.get(contact_id=contact_id).json()["contacts"]
    return found


def everything(org: Org) -> dict[str, Any]:
    """The organization's whole state, for all-or-nothing comparisons."""
    body = org.get(limit=100).json()
    assert body["page_state"] is None
    return body


def problems(response: httpx.Response) -> list[tuple[int | None, str]]:
    body = assert_envelope(response, 400)
    assert body["msg"] == "Invalid request parameters"
    return sorted((problem.get("index"), problem["field"]) for problem in body["errors"])


def three(org: Org) -> list[str]:
    return add_ids(
        org,
        [
            contact("919200000211", "Asha", "Rao"),
            contact("919200000212", "Ravi", "Kumar"),
            contact("919200000213", "Meera", "Iyer"),
        ],
    )


# --- what a successful update does ----------------------------------------------


def test_the_answer_counts_the_contacts_updated(org: Org) -> None:
    ids = three(org)
    response = update(org, [{"contact_id": contact_id, "job_title": "Owner"} for contact_id in ids])
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 200, "msg": "Contacts updated successfully", "updated": 3}
    assert [stored(org, contact_id)["job_title"] for contact_id in ids] == ["Owner"] * 3


def test_given_fields_change_and_absent_fields_stay(org: Org) -> None:
    [contact_id, other] = add_ids(org, [FULL, contact("919200000202", "Other")])
    before = stored(org, contact_id)
    other_before = stored(org, other)
    time.sleep(0.01)
    response = update(org, [{"contact_id": contact_id, "first_name": " Jane ", "company": "New"}])
    assert response.status_code == 200, response.text
    after = stored(org, contact_id)
    assert after == {
        **before,
        "first_name": "Jane",
        "company": "New",
        "updated_at": after["updated_at"],
    }
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    assert stored(org, other) == other_before


def test_every_field_can_change_at_once(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    changes = {
        "phone_no": "+1 (415) 555-2671",
        "first_name": "Zoë",
        "last_name": " 山田 ",
        "email_id": " Mixed.Case@EXAMPLE.Org ",
        "company": "  Globex ",
        "job_title": "CTO",
    }
    response = update(org, [{"contact_id": contact_id.upper(), **changes}])
    assert response.status_code == 200, response.text
    after = stored(org, contact_id)
    assert {key: after[key] for key in FULL} == {
        "phone_no": "14155552671",
        "first_name": "Zoë",
        "last_name": "山田",
        "email_id": "Mixed.Case@example.org",
        "company": "Globex",
        "job_title": "CTO",
    }


@pytest.mark.parametrize("field", ["email_id", "company", "job_title"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_optional_fields_given_empty_are_cleared(org: Org, field: str, empty: str | None) -> None:
    [contact_id] = add_ids(org, [FULL])
    before = stored(org, contact_id)
    response = update(org, [{"contact_id": contact_id, field: empty}])
    assert response.status_code == 200, response.text
    after = stored(org, contact_id)
    assert after == {**before, field: None, "updated_at": after["updated_at"]}


@pytest.mark.parametrize("field", ["phone_no", "first_name", "last_name"])
@pytest.mark.parametrize("empty", [None, ""])
def test_required_fields_cannot_be_cleared(org: Org, field: str, empty: str | None) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [{"contact_id": ids[0], "first_name": "Changed"}, {"contact_id": ids[1], field: empty}],
    )
    body = assert_envelope(response, 400)
    assert body["errors"] == [
        {"index": 1, "field": field, "msg": "is required and cannot be cleared"}
    ]
    assert everything(org) == before


def test_phone_numbers_are_normalised_as_on_add(org: Org, org_in: Org) -> None:
    [plain] = add_ids(org, [contact("919200000221")])
    [indian, other_indian, foreign] = add_ids(
        org_in, [contact("919200000222"), contact("919200000223"), contact("919200000224")]
    )
    assert update(org, [{"contact_id": plain, "phone_no": "+91 92000-00231"}]).status_code == 200
    assert stored(org, plain)["phone_no"] == "919200000231"
    assert update(org, [{"contact_id": plain, "phone_no": 919200000232}]).status_code == 200
    assert stored(org, plain)["phone_no"] == "919200000232"
    # Without a default region a national number lacks its country code.
    assert problems(update(org, [{"contact_id": plain, "phone_no": "09200000233"}])) == [
        (0, "phone_no")
    ]
    # With the app's default region (IN) it is read there.
    response = update(
        org_in,
        [
            {"contact_id": indian, "phone_no": "09200000233"},
            {"contact_id": other_indian, "phone_no": "9200000234"},
            {"contact_id": foreign, "phone_no": "0044 7911 123456"},
        ],
    )
    assert response.status_code == 200, response.text
    assert [stored(org_in, i)["phone_no"] for i in (indian, other_indian, foreign)] == [
        "919200000233",
        "919200000234",
        "447911123456",
    ]


def test_an_element_with_only_a_contact_id_changes_nothing_but_is_accepted(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    before = stored(org, contact_id)
    response = update(org, [{"contact_id": contact_id}])
    assert response.status_code == 200, response.text
    after = stored(org, contact_id)
    assert {key: after[key] for key in FULL} == {key: before[key] for key in FULL}


def test_unknown_top_level_keys_are_ignored(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    response = update(org, [{"contact_id": contact_id, "company": "X"}], on_duplicate="skip")
    assert response.status_code == 200, response.text


# --- invalid requests: 400, and nothing changes ----------------------------------


@pytest.mark.parametrize("value", [None, "x", {"contact_id": "x"}, 7])
def test_contacts_must_be_an_array(org: Org, value: object) -> None:
    assert problems(update(org, value)) == [(None, "contacts")]


def test_contacts_may_not_be_missing(org: Org) -> None:
    response = org.post("/v3/contact/update", {"token": org.token})
    assert problems(response) == [(None, "contacts")]


@pytest.mark.parametrize("count", [0, 101])
def test_batches_must_hold_1_to_100(org: Org, count: int) -> None:
    ids = add_ids(org, [contact(f"9198765400{n:02d}") for n in range(100)])
    before = everything(org)
    batch = [{"contact_id": contact_id, "job_title": "T"} for contact_id in ids]
    batch += [{"contact_id": str(uuid.uuid4()), "job_title": "T"}]
    assert problems(update(org, batch[:count])) == [(None, "contacts")]
    assert everything(org) == before


def test_a_batch_of_100_is_accepted(org: Org) -> None:
    ids = add_ids(org, [contact(f"9198765400{n:02d}") for n in range(100)])
    response = update(org, [{"contact_id": contact_id, "job_title": "T"} for contact_id in ids])
    assert response.json() == {"code": 200, "msg": "Contacts updated successfully", "updated": 100}


@pytest.mark.parametrize("element", [None, "id", 5, ["contact_id"]])
def test_an_element_that_is_not_an_object_is_400(org: Org, element: object) -> None:
    [contact_id] = add_ids(org, [FULL])
    assert problems(update(org, [{"contact_id": contact_id}, element])) == [(1, "contacts")]


@pytest.mark.parametrize(
    "contact_id",
    [
        None,
        "",
        5,
        "not-a-uuid",
        "01890a5dac96774bbcceb302099a8057",
        "{01890a5d-ac96-774b-bcce-b302099a8057}",
        ["01890a5d-ac96-774b-bcce-b302099a8057"],
    ],
)
def test_a_missing_or_malformed_contact_id_is_400(org: Org, contact_id: object) -> None:
    [good] = add_ids(org, [FULL])
    before = everything(org)
    batch = [
        {"contact_id": good, "first_name": "Changed"},
        {"contact_id": contact_id, "first_name": "X"},
    ]
    assert problems(update(org, batch)) == [(1, "contact_id")]
    assert everything(org) == before


def test_an_element_without_contact_id_is_400(org: Org) -> None:
    add_ids(org, [FULL])
    body = assert_envelope(update(org, [{"phone_no": FULL["phone_no"], "first_name": "X"}]), 400)
    assert [(p["index"], p["field"]) for p in body["errors"]] == [(0, "contact_id")]


@pytest.mark.parametrize(
    "unknown", ["phone", "emial", "firstName", "created_at", "updated_at", "status", ""]
)
def test_unknown_fields_are_400_naming_them(org: Org, unknown: str) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "first_name": "Changed"},
            {"contact_id": ids[1], unknown: "x", "first_name": "Changed"},
        ],
    )
    body = assert_envelope(response, 400)
    assert [(p["index"], p["field"], p["msg"]) for p in body["errors"]] == [
        (1, unknown, "unknown field")
    ]
    assert everything(org) == before


def test_several_unknown_fields_are_each_named(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    response = update(org, [{"contact_id": contact_id, "phone": "1", "emial": "a@b.c"}])
    assert problems(response) == [(0, "emial"), (0, "phone")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone_no": "12345"}, "phone_no"),
        ({"phone_no": "+91 92000 0000x"}, "phone_no"),
        ({"phone_no": "   "}, "phone_no"),
        ({"phone_no": True}, "phone_no"),
        ({"phone_no": 9.5}, "phone_no"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": 5}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name": "Jo\u0000hn"}, "first_name"),
        ({"last_name": "D\u0007oe"}, "last_name"),
        ({"last_name": ["Doe"]}, "last_name"),
        ({"email_id": "not-an-email"}, "email_id"),
        ({"email_id": "a@b@c.com"}, "email_id"),
        ({"email_id": 5}, "email_id"),
        ({"company": "c" * 201}, "company"),
        ({"company": {"name": "x"}}, "company"),
        ({"job_title": "j" * 201}, "job_title"),
        ({"job_title": "tab\there"}, "job_title"),
    ],
)
def test_each_bad_field_is_400_naming_index_and_field(
    org: Org, overrides: dict, field: str
) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [{"contact_id": ids[0], "first_name": "Changed"}, {"contact_id": ids[1], **overrides}],
    )
    assert problems(response) == [(1, field)]
    assert everything(org) == before


def test_every_problem_is_listed(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    batch = [
        {"contact_id": ids[0], "first_name": "Fine"},
        {"contact_id": ids[1], "phone_no": "12", "first_name": "", "emial": "x@y.z"},
        "not an object",
        {"contact_id": ids[2], "email_id": "bad@"},
        {"contact_id": "nope"},
        {"contact_id": ids[0], "last_name": "Again"},
    ]
    assert problems(update(org, batch)) == [
        (1, "emial"),
        (1, "first_name"),
        (1, "phone_no"),
        (2, "contacts"),
        (3, "email_id"),
        (4, "contact_id"),
        (5, "contact_id"),
    ]
    assert everything(org) == before


@pytest.mark.parametrize("same_id", [str.lower, str.upper])
def test_the_same_contact_twice_is_400_on_the_later_index(org: Org, same_id: Any) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "first_name": "One"},
            {"contact_id": ids[1], "first_name": "Two"},
            {"contact_id": same_id(ids[0]), "last_name": "Three"},
        ],
    )
    assert problems(response) == [(2, "contact_id")]
    assert everything(org) == before


def test_an_unknown_contact_id_is_400_with_its_index(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "first_name": "Changed"},
            {"contact_id": str(uuid.uuid4()), "first_name": "Ghost"},
            {"contact_id": ids[1], "first_name": "Changed"},
            {"contact_id": "00000000-0000-0000-0000-000000000000", "first_name": "Ghost"},
        ],
    )
    assert problems(response) == [(1, "contact_id"), (3, "contact_id")]
    assert everything(org) == before


def test_another_organizations_contact_is_400_like_an_unknown_one(org: Org, org_in: Org) -> None:
    [mine] = add_ids(org, [FULL])
    [theirs] = add_ids(org_in, [{**FULL, "phone_no": "919200000209"}])
    theirs_before = stored(org_in, theirs)
    before = everything(org)
    foreign = update(
        org,
        [
            {"contact_id": mine, "first_name": "Changed"},
            {"contact_id": theirs, "first_name": "Hijacked", "phone_no": "919200000299"},
        ],
    )
    unknown = update(
        org,
        [
            {"contact_id": mine, "first_name": "Changed"},
            {"contact_id": str(uuid.uuid4()), "first_name": "Hijacked"},
        ],
    )
    foreign_body = assert_envelope(foreign, 400)
    assert [(p["index"], p["field"]) for p in foreign_body["errors"]] == [(1, "contact_id")]
    # Nothing tells a foreign id from one that does not exist.
    assert foreign_body == assert_envelope(unknown, 400)
    assert stored(org_in, theirs) == theirs_before
    assert everything(org) == before


def test_validation_is_answered_before_conflicts(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "phone_no": "919200000212"},  # held by ids[1]: a 409 alone
            {"contact_id": str(uuid.uuid4()), "first_name": "Ghost"},
        ],
    )
    assert problems(response) == [(1, "contact_id")]
    assert everything(org) == before


# --- phone number conflicts: 409, and nothing changes ------------------------------


def test_a_number_held_by_another_contact_is_409_naming_the_holder(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "first_name": "Changed"},
            {"contact_id": ids[2], "phone_no": "+91 92000-00212"},  # ids[1]'s number
        ],
    )
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": 409,
        "msg": DUPLICATE_MSG,
        "duplicates": [{"index": 1, "phone_no": "919200000212", "contact_id": ids[1]}],
    }
    assert everything(org) == before


def test_two_elements_taking_one_new_number_is_409(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "phone_no": "919200000250"},
            {"contact_id": ids[1], "phone_no": "+91 9200000250"},
            {"contact_id": ids[2], "phone_no": "919200000251"},
        ],
    )
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": 409,
        "msg": DUPLICATE_MSG,
        "duplicates": [{"index": 1, "phone_no": "919200000250", "duplicate_of_index": 0}],
    }
    assert everything(org) == before


def test_every_conflict_is_listed(org: Org) -> None:
    ids = three(org)
    [fourth] = add_ids(org, [contact("919200000214")])
    response = update(
        org,
        [
            {"contact_id": ids[0], "phone_no": "919200000260"},
            {"contact_id": ids[1], "phone_no": "919200000213"},  # held by ids[2]
            {"contact_id": fourth, "phone_no": "919200000260"},  # taken by element 0
        ],
    )
    assert response.status_code == 409, response.text
    assert response.json()["duplicates"] == [
        {"index": 1, "phone_no": "919200000213", "contact_id": ids[2]},
        {"index": 2, "phone_no": "919200000260", "duplicate_of_index": 0},
    ]


def test_a_contact_may_be_given_its_own_number(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    response = update(
        org, [{"contact_id": contact_id, "phone_no": "+91 92000 00201", "first_name": "Jane"}]
    )
    assert response.status_code == 200, response.text
    after = stored(org, contact_id)
    assert (after["phone_no"], after["first_name"]) == ("919200000201", "Jane")


def test_swapping_two_numbers_in_one_batch_is_409(org: Org) -> None:
    ids = three(org)
    before = everything(org)
    response = update(
        org,
        [
            {"contact_id": ids[0], "phone_no": "919200000212"},
            {"contact_id": ids[1], "phone_no": "919200000211"},
        ],
    )
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": 409,
        "msg": DUPLICATE_MSG,
        "duplicates": [
            {"index": 0, "phone_no": "919200000212", "contact_id": ids[1]},
            {"index": 1, "phone_no": "919200000211", "contact_id": ids[0]},
        ],
    }
    assert everything(org) == before


def test_a_number_given_up_is_free_and_the_new_one_is_taken(org: Org) -> None:
    ids = three(org)
    assert update(org, [{"contact_id": ids[0], "phone_no": "919200000270"}]).status_code == 200
    # The old number is free: another contact may take it, and so may a new one.
    assert update(org, [{"contact_id": ids[1], "phone_no": "919200000211"}]).status_code == 200
    assert stored(org, ids[1])["phone_no"] == "919200000211"
    assert org.add([contact("919200000212")]).status_code == 200
    # The new number is held.
    response = org.add([contact("919200000270")])
    assert response.status_code == 409, response.text
    assert response.json()["duplicates"] == [
        {"index": 0, "phone_no": "919200000270", "contact_id": ids[0]}
    ]


def test_numbers_held_in_another_organization_do_not_conflict(org: Org, org_in: Org) -> None:
    [mine] = add_ids(org, [FULL])
    [theirs] = add_ids(org_in, [contact("919200000280")])
    response = update(org, [{"contact_id": mine, "phone_no": "919200000280"}])
    assert response.status_code == 200, response.text
    assert stored(org, mine)["phone_no"] == "919200000280"
    assert stored(org_in, theirs)["phone_no"] == "919200000280"


# --- credentials -------------------------------------------------------------------


def test_an_unknown_token_is_404_before_the_contacts_are_judged(server: Server) -> None:
    response = httpx.post(f"{server.url}/v3/contact/update", json={"token": "nope", "contacts": []})
    assert assert_envelope(response, 404)["msg"] == "Authenticated user record not found"


def test_a_missing_token_is_400(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    response = org.post("/v3/contact/update", {"contacts": [{"contact_id": contact_id}]})
    assert problems(response) == [(None, "token")]


def test_the_token_may_come_as_a_bearer_header(org: Org) -> None:
    [contact_id] = add_ids(org, [FULL])
    response = org.client.post(
        "/v3/contact/update",
        json={"contacts": [{"contact_id": contact_id, "company": "Bearer Co"}]},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert response.status_code == 200, response.text
    assert stored(org, contact_id)["company"] == "Bearer Co"


def test_unknown_ids_are_listed_with_the_other_problems(org: Org) -> None:
    [known] = org.add([contact("919890000001")]).json()["contacts"]
    body = org.post(
        "/v3/contact/update",
        {
            "token": org.token,
            "contacts": [
                {"contact_id": known["contact_id"], "email_id": "bad@"},
                {"contact_id": "00000000-0000-0000-0000-000000000000", "first_name": "X"},
            ],
        },
    ).json()
    assert body["code"] == 400
    assert [(p["index"], p["field"]) for p in body["errors"]] == [
        (0, "email_id"),
        (1, "contact_id"),
    ]
