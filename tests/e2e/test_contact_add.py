"""`v3/contact/add`: the seed endpoint, every rule of the contract."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Org, contact
from tests.e2e.test_envelope import assert_envelope

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEED_CONTACT = {
    "phone_no": "919200000000",
    "first_name": "John",
    "last_name": "Doe",
    "email_id": "john.doe@example.com",
    "company": "Acme Corp",
    "job_title": "Software Engineer",
}


def stored_count(org: Org) -> int:
    return int(org.get().json()["count"])


def test_the_seed_request_is_answered_as_documented(org: Org) -> None:
    response = org.add([SEED_CONTACT])
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200
    assert body["msg"] == "Contact added successfully"
    [added] = body["contacts"]
    assert UUID.fullmatch(added["contact_id"])
    assert added["phone_no"] == "919200000000"
    assert added["status"] == "created"
    [stored] = org.get(contact_id=added["contact_id"]).json()["contacts"]
    assert {key: stored[key] for key in SEED_CONTACT} == SEED_CONTACT


def test_answers_come_one_per_contact_in_input_order(org: Org) -> None:
    phones = [f"9198765432{n:02d}" for n in range(100)]
    response = org.add([contact(phone) for phone in phones])
    assert response.status_code == 200, response.text
    assert [item["phone_no"] for item in response.json()["contacts"]] == phones
    assert stored_count(org) == 100


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+91 92000-00001", "919200000001"),
        ("0091 (920) 000.0001", "919200000001"),
        (919200000001, "919200000001"),
        ("+1 (415) 555-2671", "14155552671"),
        ("+44 7911 123456", "447911123456"),
    ],
)
def test_phone_numbers_are_stored_as_e164_digits(org: Org, given: object, stored: str) -> None:
    response = org.add([contact(given)])
    assert response.status_code == 200, response.text
    assert response.json()["contacts"][0]["phone_no"] == stored


def test_national_numbers_are_read_in_the_apps_default_region(org: Org, org_in: Org) -> None:
    assert org_in.add([contact("09200000003")]).json()["contacts"][0]["phone_no"] == "919200000003"
    assert org_in.add([contact("9200000004")]).json()["contacts"][0]["phone_no"] == "919200000004"
    # Without a default region the same digits lack a country code.
    assert_envelope(org.add([contact("09200000003")]), 400)


def test_fields_are_trimmed_and_email_domain_lower_cased(org: Org) -> None:
    added = org.add(
        [
            contact(
                "919200000005",
                "  Zoë ",
                " 山田 ",
                email_id=" Mixed.Case@EXAMPLE.Com ",
                company="  ",
            )
        ]
    )
    [stored] = org.get(contact_id=added.json()["contacts"][0]["contact_id"]).json()["contacts"]
    assert stored["first_name"] == "Zoë"
    assert stored["last_name"] == "山田"
    assert stored["email_id"] == "Mixed.Case@example.com"
    assert stored["company"] is None
    assert stored["job_title"] is None


@pytest.mark.parametrize("count", [0, 101])
def test_batches_must_hold_1_to_100(org: Org, count: int) -> None:
    contacts = [contact(f"9198765400{n:02d}") for n in range(count)]
    body = assert_envelope(org.add(contacts), 400)
    assert body["errors"][0]["field"] == "contacts"
    assert stored_count(org) == 0


@pytest.mark.parametrize("value", [None, "x", {"phone_no": "1"}, 7])
def test_contacts_must_be_an_array(org: Org, value: object) -> None:
    response = org.post("/v3/contact/add", {"token": org.token, "contacts": value})
    assert assert_envelope(response, 400)["errors"][0]["field"] == "contacts"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone_no": None}, "phone_no"),
        ({"phone_no": ""}, "phone_no"),
        ({"phone_no": "12345"}, "phone_no"),
        ({"phone_no": "+91 92000 0000x"}, "phone_no"),
        ({"phone_no": True}, "phone_no"),
        ({"phone_no": 9.5}, "phone_no"),
        ({"phone_no": ["919200000000"]}, "phone_no"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": None}, "first_name"),
        ({"first_name": 5}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name": "Jo\u0000hn"}, "first_name"),
        ({"last_name": "Doe\n"}, None),
        ({"last_name": "D\u0007oe"}, "last_name"),
        ({"email_id": "not-an-email"}, "email_id"),
        ({"email_id": "a@b@c.com"}, "email_id"),
        ({"email_id": 5}, "email_id"),
        ({"company": "c" * 201}, "company"),
        ({"company": {"name": "x"}}, "company"),
        ({"job_title": "j" * 201}, "job_title"),
        ({"job_title": "tab\there"}, "job_title"),
        ({"phone": "919200000000"}, "phone"),
    ],
)
def test_each_bad_field_is_400_naming_index_and_field(
    org: Org, overrides: dict, field: str | None
) -> None:
    good = contact("919200000010")
    suspect = {**contact("919200000011"), **overrides}
    response = org.add([good, suspect])
    if field is None:  # trailing whitespace is trimmed, not an error
        assert response.status_code == 200, response.text
        return
    body = assert_envelope(response, 400)
    assert body["msg"] == "Invalid request parameters"
    assert {"index": 1, "field": field} in [
        {"index": problem.get("index"), "field": problem["field"]} for problem in body["errors"]
    ]
    assert all(problem["index"] == 1 for problem in body["errors"])
    assert stored_count(org) == 0


def test_every_problem_is_listed_and_nothing_is_written(org: Org) -> None:
    batch = [
        contact("919200000020"),
        {"phone_no": "12", "first_name": "", "last_name": "Doe", "emial": "x@y.z"},
        "not an object",
        contact("919200000021", email_id="bad@"),
    ]
    body = assert_envelope(org.add(batch), 400)
    assert sorted((p["index"], p["field"]) for p in body["errors"]) == [
        (1, "emial"),
        (1, "first_name"),
        (1, "phone_no"),
        (2, "contacts"),
        (3, "email_id"),
    ]
    assert stored_count(org) == 0


def test_a_repeated_number_is_409_and_lists_every_duplicate(org: Org) -> None:
    first = org.add([contact("919200000030")]).json()["contacts"][0]
    batch = [
        contact("+91 92000 00030"),  # stored already
        contact("919200000031"),
        contact("919200000032"),
        contact("91 9200000031"),  # repeats element 1
        contact("919200000031"),  # and again
    ]
    response = org.add(batch)
    body = assert_envelope(response, 409)
    assert body["msg"] == "Duplicate contact detected within the organization"
    assert body["duplicates"] == [
        {"index": 0, "phone_no": "919200000030", "contact_id": first["contact_id"]},
        {"index": 3, "phone_no": "919200000031", "duplicate_of_index": 1},
        {"index": 4, "phone_no": "919200000031", "duplicate_of_index": 1},
    ]
    assert stored_count(org) == 1


def test_adding_the_seed_twice_is_409_with_the_stored_id(org: Org) -> None:
    first = org.add([SEED_CONTACT]).json()["contacts"][0]["contact_id"]
    body = assert_envelope(org.add([SEED_CONTACT]), 409)
    assert body["duplicates"] == [{"index": 0, "phone_no": "919200000000", "contact_id": first}]


def test_validation_is_answered_before_duplicates(org: Org) -> None:
    org.add([contact("919200000040")])
    response = org.add([contact("919200000040"), contact("919200000041", first_name="")])
    assert_envelope(response, 400)


def test_organizations_never_conflict(org: Org, org_in: Org) -> None:
    assert org.add([contact("919200000050")]).status_code == 200
    assert org_in.add([contact("919200000050")]).status_code == 200
    assert stored_count(org) == stored_count(org_in) == 1


def test_the_token_may_come_as_a_bearer_header(org: Org) -> None:
    response = org.client.post(
        "/v3/contact/add",
        json={"contacts": [contact("919200000060")]},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert response.status_code == 200, response.text


def test_the_body_token_wins_over_the_header(org: Org) -> None:
    response = org.client.post(
        "/v3/contact/add",
        json={"token": "not-a-real-token", "contacts": [contact("919200000061")]},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert_envelope(response, 404)


@pytest.mark.parametrize("token", [5, ["t"], {"t": 1}, True])
def test_a_mistyped_body_token_is_400_even_beside_a_good_header(org: Org, token: object) -> None:
    response = org.client.post(
        "/v3/contact/add",
        json={"token": token, "contacts": [contact("919200000062")]},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert assert_envelope(response, 400)["errors"] == [
        {"field": "token", "msg": "must be a string"}
    ]


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": None}])
def test_a_missing_token_is_400(org: Org, body: dict) -> None:
    response = org.post("/v3/contact/add", {**body, "contacts": [contact("919200000063")]})
    assert assert_envelope(response, 400)["errors"][0]["field"] == "token"


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Token x"])
def test_an_unusable_authorization_header_counts_as_missing(org: Org, header: str) -> None:
    response = org.client.post(
        "/v3/contact/add",
        json={"contacts": [contact("919200000064")]},
        headers={"Authorization": header},
    )
    assert_envelope(response, 400)


@pytest.mark.parametrize("token", ["nope", "x" * 5000, "\u00e9\u00e9", "a b"])
def test_an_unknown_token_is_404(org: Org, token: str) -> None:
    response = org.post("/v3/contact/add", {"token": token, "contacts": [contact("919200000065")]})
    assert assert_envelope(response, 404)["msg"] == "Authenticated user record not found"


def test_an_unknown_token_is_404_before_bad_contacts_are_judged(org: Org) -> None:
    response = org.post("/v3/contact/add", {"token": "nope", "contacts": []})
    assert_envelope(response, 404)


def test_unknown_top_level_keys_are_ignored(org: Org) -> None:
    response = org.add([contact("919200000066")], extra_key={"anything": 1})
    assert response.status_code == 200, response.text
