"""`v3/contact/add` beyond TeleCMI: `on_duplicate` and `validate_only`."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Org, contact
from tests.e2e.test_envelope import assert_envelope


def stored(org: Org, contact_id: str) -> dict:
    [found] = org.get(contact_id=contact_id).json()["contacts"]
    return dict(found)


def test_a_plain_add_lists_no_skipped(org: Org) -> None:
    assert org.add([contact("919500000001")]).json()["skipped"] == []


def test_skip_leaves_stored_numbers_alone_and_adds_the_rest(org: Org) -> None:
    first = org.add([contact("919500000010", company="Old")]).json()["contacts"][0]
    response = org.add(
        [contact("919500000011"), contact("+91 95000 00010", first="New", company="New")],
        on_duplicate="skip",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skipped"] == [1]
    assert body["contacts"][1] == {
        "contact_id": first["contact_id"],
        "phone_no": "919500000010",
        "status": "skipped",
    }
    assert body["contacts"][0]["status"] == "created"
    kept = stored(org, first["contact_id"])
    assert (kept["first_name"], kept["company"]) == ("John", "Old")
    assert org.get().json()["count"] == 2


def test_update_upserts_only_the_given_fields(org: Org) -> None:
    first = org.add(
        [contact("919500000020", email_id="a@example.com", company="Old", job_title="Boss")]
    ).json()["contacts"][0]
    before = stored(org, first["contact_id"])
    time.sleep(0.01)
    item = {"phone_no": "919500000020", "first_name": "Jane", "last_name": "Roe", "company": None}
    body = org.add([item, contact("919500000021")], on_duplicate="update").json()
    assert body["contacts"][0] == {
        "contact_id": first["contact_id"],
        "phone_no": "919500000020",
        "status": "updated",
    }
    assert body["contacts"][1]["status"] == "created"
    assert body["skipped"] == []
    after = stored(org, first["contact_id"])
    assert (after["first_name"], after["last_name"]) == ("Jane", "Roe")
    assert after["company"] is None  # null clears
    assert after["email_id"] == "a@example.com"  # absent stays
    assert after["job_title"] == "Boss"
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]


@pytest.mark.parametrize("policy", ["error", "skip", "update"])
def test_a_number_repeated_in_the_batch_is_409_under_every_policy(org: Org, policy: str) -> None:
    body = assert_envelope(
        org.add([contact("919500000030"), contact("919500000030")], on_duplicate=policy), 409
    )
    assert body["duplicates"] == [{"index": 1, "phone_no": "919500000030", "duplicate_of_index": 0}]
    assert org.get().json()["count"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"on_duplicate": "replace"}, "on_duplicate"), ({"validate_only": "yes"}, "validate_only")],
)
def test_bad_options_are_400(org: Org, extra: dict, field: str) -> None:
    body = assert_envelope(org.add([contact("919500000040")], **extra), 400)
    assert [problem["field"] for problem in body["errors"]] == [field]


def test_validate_only_answers_as_the_real_request_would_and_writes_nothing(org: Org) -> None:
    existing = org.add([contact("919500000050")]).json()["contacts"][0]
    dry = org.add(
        [contact("919500000051"), contact("919500000050")], on_duplicate="skip", validate_only=True
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["contacts"] == [
        {"phone_no": "919500000051", "status": "created"},
        {"phone_no": "919500000050", "status": "skipped"},
    ]
    assert dry.json()["skipped"] == [1]
    assert org.get().json()["count"] == 1

    conflict = assert_envelope(org.add([contact("919500000050")], validate_only=True), 409)
    assert conflict["duplicates"] == [
        {"index": 0, "phone_no": "919500000050", "contact_id": existing["contact_id"]}
    ]
    invalid = assert_envelope(org.add([contact("12")], validate_only=True), 400)
    assert invalid["errors"][0]["field"] == "phone_no"

    real = org.add([contact("919500000051"), contact("919500000050")], on_duplicate="skip")
    assert [(c["phone_no"], c["status"]) for c in real.json()["contacts"]] == [
        (c["phone_no"], c["status"]) for c in dry.json()["contacts"]
    ]


@pytest.mark.parametrize("policy", ["skip", "update"])
def test_a_stored_number_repeated_in_the_batch_is_409_too(org: Org, policy: str) -> None:
    existing = org.add([contact("919500000060")]).json()["contacts"][0]["contact_id"]
    batch = [
        contact("919500000061"),
        contact("919500000060"),
        contact("+91 95000 00060", last="I."),
    ]
    body = assert_envelope(org.add(batch, on_duplicate=policy), 409)
    # Under skip and update the stored occurrence is no problem; the repeat is.
    assert body["duplicates"] == [{"index": 2, "phone_no": "919500000060", "duplicate_of_index": 1}]
    assert org.get(contact_id=existing).json()["contacts"][0]["last_name"] == "Doe"
