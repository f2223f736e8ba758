"""`v3/contact/delete`: every rule of the contract and of the project's decisions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Org, Server, contact
from tests.e2e.test_envelope import assert_envelope

ZERO_ID = "00000000-0000-0000-0000-000000000000"


def delete(org: Org, contact_ids: Any, **extra: Any) -> httpx.Response:
    return org.post("/v3/contact/delete", {"token": org.token, "contact_ids": contact_ids, **extra})


def deleted(count: int) -> dict[str, Any]:
    return {"code": 200, "msg": "Contacts Deleted Successfully", "deleted": count}


def add_ids(org: Org, count: int, start: int = 0) -> list[str]:
    response = org.add([contact(f"91920000{start + n:04d}", first=f"F{n}") for n in range(count)])
    assert response.status_code == 200, response.text
    return [item["contact_id"] for item in response.json()["contacts"]]


def everything(org: Org) -> dict[str, Any]:
    body = org.get(limit=100).json()
    assert body["page_state"] is None
    return body


def listed(org: Org) -> list[str]:
    return [item["contact_id"] for item in everything(org)["contacts"]]


def problems(response: httpx.Response) -> list[tuple[int | None, str]]:
    body = assert_envelope(response, 400)
    assert body["msg"] == "Invalid request parameters"
    return [(problem.get("index"), problem["field"]) for problem in body["errors"]]


def test_deleting_answers_the_count_and_removes_only_those(org: Org) -> None:
    ids = add_ids(org, 4)
    before = everything(org)
    response = delete(org, [ids[1], ids[3]])
    assert response.status_code == 200, response.text
    assert response.json() == deleted(2)
    after = everything(org)
    assert after["count"] == 2
    # The survivors are untouched.
    assert after["contacts"] == [before["contacts"][0], before["contacts"][2]]


def test_a_deleted_contact_is_gone_by_id(org: Org) -> None:
    ids = add_ids(org, 3)
    assert delete(org, [ids[0]]).json() == deleted(1)
    assert org.get(contact_id=ids[0]).json() == {
        "code": 200,
        "contacts": [],
        "count": 2,
        "page_state": None,
    }


def test_a_batch_of_100_is_deleted(org: Org) -> None:
    ids = add_ids(org, 100)
    assert delete(org, ids).json() == deleted(100)
    assert everything(org)["count"] == 0


def test_ids_are_accepted_in_any_case(org: Org) -> None:
    ids = add_ids(org, 2)
    assert delete(org, [ids[0].upper()]).json() == deleted(1)
    assert listed(org) == [ids[1]]


def test_an_id_given_twice_counts_once(org: Org) -> None:
    ids = add_ids(org, 3)
    response = delete(org, [ids[0], ids[1], ids[0], ids[0].upper()])
    assert response.json() == deleted(2)
    assert listed(org) == [ids[2]]


def test_unknown_ids_are_ignored_and_not_counted(org: Org) -> None:
    ids = add_ids(org, 2)
    response = delete(org, [str(uuid.uuid4()), ids[1], ZERO_ID])
    assert response.json() == deleted(1)
    assert listed(org) == [ids[0]]


def test_only_unknown_ids_delete_nothing(org: Org) -> None:
    ids = add_ids(org, 2)
    assert delete(org, [str(uuid.uuid4()) for _ in range(100)]).json() == deleted(0)
    assert listed(org) == ids


def test_deleting_twice_deletes_once(org: Org) -> None:
    ids = add_ids(org, 2)
    assert delete(org, [ids[0]]).json() == deleted(1)
    assert delete(org, [ids[0]]).json() == deleted(0)
    assert listed(org) == [ids[1]]


def test_another_organizations_ids_are_ignored(org: Org, org_in: Org) -> None:
    mine = add_ids(org, 2)
    theirs = add_ids(org_in, 2)
    theirs_before = everything(org_in)
    assert delete(org, theirs).json() == deleted(0)
    assert delete(org, [theirs[0], mine[0], theirs[1]]).json() == deleted(1)
    assert listed(org) == [mine[1]]
    assert everything(org_in) == theirs_before
    [still_there] = org_in.get(contact_id=theirs[0]).json()["contacts"]
    assert still_there["contact_id"] == theirs[0]


def test_a_deleted_number_can_be_added_again(org: Org) -> None:
    [old] = add_ids(org, 1, start=300)
    assert delete(org, [old]).json() == deleted(1)
    response = org.add([contact("+91 92000 00300", first="Again")])
    assert response.status_code == 200, response.text
    [again] = response.json()["contacts"]
    assert again["phone_no"] == "919200000300"
    assert again["status"] == "created"
    assert again["contact_id"] != old
    assert listed(org) == [again["contact_id"]]
    assert org.get(contact_id=old).json()["contacts"] == []


def test_a_deleted_number_can_be_taken_by_an_update(org: Org) -> None:
    ids = add_ids(org, 2, start=310)
    assert delete(org, [ids[0]]).json() == deleted(1)
    response = org.post(
        "/v3/contact/update",
        {"token": org.token, "contacts": [{"contact_id": ids[1], "phone_no": "919200000310"}]},
    )
    assert response.status_code == 200, response.text
    [moved] = org.get(contact_id=ids[1]).json()["contacts"]
    assert moved["phone_no"] == "919200000310"


def test_a_deleted_contact_cannot_be_updated(org: Org) -> None:
    [gone] = add_ids(org, 1)
    assert delete(org, [gone]).json() == deleted(1)
    response = org.post(
        "/v3/contact/update",
        {"token": org.token, "contacts": [{"contact_id": gone, "first_name": "Back"}]},
    )
    assert problems(response) == [(0, "contact_id")]
    assert everything(org)["count"] == 0


# --- invalid requests: 400, and nothing is deleted ---------------------------------


@pytest.mark.parametrize("count", [0, 101])
def test_batches_must_hold_1_to_100(org: Org, count: int) -> None:
    ids = add_ids(org, 100)
    before = everything(org)
    batch = [*ids, str(uuid.uuid4())][:count]
    assert problems(delete(org, batch)) == [(None, "contact_ids")]
    assert everything(org) == before


@pytest.mark.parametrize("value", [None, "x", 7, {"contact_id": ZERO_ID}, True])
def test_contact_ids_must_be_an_array(org: Org, value: object) -> None:
    ids = add_ids(org, 1)
    assert problems(delete(org, value)) == [(None, "contact_ids")]
    assert listed(org) == ids


def test_a_single_id_not_in_an_array_is_400(org: Org) -> None:
    ids = add_ids(org, 1)
    assert problems(delete(org, ids[0])) == [(None, "contact_ids")]
    assert listed(org) == ids


def test_contact_ids_may_not_be_missing(org: Org) -> None:
    ids = add_ids(org, 1)
    assert problems(org.post("/v3/contact/delete", {"token": org.token})) == [(None, "contact_ids")]
    assert listed(org) == ids


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "",
        None,
        5,
        True,
        "01890a5dac96774bbcceb302099a8057",
        "{01890a5d-ac96-774b-bcce-b302099a8057}",
        " 01890a5d-ac96-774b-bcce-b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805g",
        ["01890a5d-ac96-774b-bcce-b302099a8057"],
        {"id": "01890a5d-ac96-774b-bcce-b302099a8057"},
    ],
)
def test_a_malformed_id_is_400_with_its_index(org: Org, bad: object) -> None:
    ids = add_ids(org, 2)
    before = everything(org)
    response = delete(org, [ids[0], str(uuid.uuid4()), bad, ids[1]])
    assert problems(response) == [(2, "contact_ids")]
    assert everything(org) == before


def test_every_malformed_id_is_listed(org: Org) -> None:
    ids = add_ids(org, 2)
    response = delete(org, ["x", ids[0], 5, ids[1], None])
    assert problems(response) == [(0, "contact_ids"), (2, "contact_ids"), (4, "contact_ids")]
    assert listed(org) == ids


# --- credentials and other keys -------------------------------------------------------


def test_an_unknown_token_is_404_before_the_ids_are_judged(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v3/contact/delete", json={"token": "nope", "contact_ids": []}
    )
    assert assert_envelope(response, 404)["msg"] == "Authenticated user record not found"


def test_a_missing_token_is_400_and_deletes_nothing(org: Org) -> None:
    ids = add_ids(org, 1)
    response = org.post("/v3/contact/delete", {"contact_ids": ids})
    assert problems(response) == [(None, "token")]
    assert listed(org) == ids


def test_the_token_may_come_as_a_bearer_header(org: Org) -> None:
    ids = add_ids(org, 2)
    response = org.client.post(
        "/v3/contact/delete",
        json={"contact_ids": [ids[0]]},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert response.json() == deleted(1)
    assert listed(org) == [ids[1]]


def test_unknown_top_level_keys_are_ignored(org: Org) -> None:
    ids = add_ids(org, 2)
    assert delete(org, [ids[0]], contacts=[{"contact_id": ids[1]}]).json() == deleted(1)
    assert listed(org) == [ids[1]]
