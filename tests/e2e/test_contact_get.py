"""`v3/contact/get`: one contact by id, or keyset pages in creation order."""

from __future__ import annotations

import pytest

from tests.conftest import Org, contact
from tests.e2e.test_envelope import assert_envelope


def add_numbered(org: Org, count: int, start: int = 0) -> list[str]:
    """Add `count` contacts; return their ids in creation order."""
    ids: list[str] = []
    for offset in range(0, count, 100):
        batch = [
            contact(f"91987{start + n:07d}", first=f"F{start + n}")
            for n in range(offset, min(offset + 100, count))
        ]
        response = org.add(batch)
        assert response.status_code == 200, response.text
        ids += [item["contact_id"] for item in response.json()["contacts"]]
    return ids


def test_paging_250_contacts_by_100_sees_each_exactly_once_in_order(org: Org) -> None:
    ids = add_numbered(org, 250)
    seen: list[str] = []
    pages = 0
    page_state = None
    while True:
        body = org.get(limit=100, page_state=page_state).json()
        assert body["code"] == 200
        assert body["count"] == 250
        seen += [item["contact_id"] for item in body["contacts"]]
        pages += 1
        page_state = body["page_state"]
        if page_state is None:
            break
    assert pages == 3
    assert seen == ids


def test_default_page_is_10_with_all_fields(org: Org) -> None:
    add_numbered(org, 12)
    body = org.get().json()
    assert len(body["contacts"]) == 10
    assert body["page_state"] is not None
    assert set(body["contacts"][0]) == {
        "contact_id", "phone_no", "first_name", "last_name", "email_id", "company",
        "job_title", "created_at", "updated_at",
    }  # fmt: skip
    first = body["contacts"][0]
    assert first["created_at"] == first["updated_at"]
    assert first["created_at"] > 1_700_000_000_000  # milliseconds, not seconds


def test_an_exact_last_page_has_no_page_state(org: Org) -> None:
    add_numbered(org, 10)
    assert org.get(limit=10).json()["page_state"] is None


def test_an_empty_organization_has_an_empty_page(org: Org) -> None:
    assert org.get().json() == {"code": 200, "contacts": [], "count": 0, "page_state": None}


def test_paging_skips_deleted_and_continues_with_added(org: Org) -> None:
    ids = add_numbered(org, 5)
    first = org.get(limit=3).json()
    more = add_numbered(org, 2, start=100)
    rest = org.get(limit=100, page_state=first["page_state"]).json()
    assert [c["contact_id"] for c in first["contacts"] + rest["contacts"]] == ids + more


def test_one_contact_by_id(org: Org) -> None:
    ids = add_numbered(org, 3)
    body = org.get(contact_id=ids[1].upper(), limit=1000, page_state="garbage").json()
    assert [c["contact_id"] for c in body["contacts"]] == [ids[1]]
    assert body["count"] == 3


def test_an_unknown_contact_id_is_an_empty_list(org: Org) -> None:
    add_numbered(org, 1)
    body = org.get(contact_id="01890a5d-ac96-774b-bcce-b302099a8057").json()
    assert body["contacts"] == []
    assert body["count"] == 1


def test_another_organizations_contact_is_invisible(org: Org, org_in: Org) -> None:
    [theirs] = add_numbered(org_in, 1)
    assert org.get(contact_id=theirs).json()["contacts"] == []
    assert org.get().json()["count"] == 0


def test_a_page_state_from_another_organization_is_400(org: Org, org_in: Org) -> None:
    add_numbered(org_in, 3)
    foreign_state = org_in.get(limit=1).json()["page_state"]
    add_numbered(org, 2, start=500)
    body = assert_envelope(org.get(page_state=foreign_state), 400)
    assert [problem["field"] for problem in body["errors"]] == ["page_state"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"contact_id": "not-a-uuid"}, "contact_id"),
        ({"contact_id": 5}, "contact_id"),
        ({"contact_id": "{01890a5d-ac96-774b-bcce-b302099a8057}"}, "contact_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": True}, "limit"),
        ({"page_state": "garbage!"}, "page_state"),
        ({"page_state": 7}, "page_state"),
        ({"page_state": "Yzk6MTIz"}, "page_state"),
    ],
)
def test_bad_parameters_are_400(org: Org, params: dict, field: str) -> None:
    body = assert_envelope(org.get(**params), 400)
    assert [problem["field"] for problem in body["errors"]] == [field]


def test_bad_limit_and_page_state_are_both_listed(org: Org) -> None:
    body = assert_envelope(org.get(limit=0, page_state="zz"), 400)
    assert [problem["field"] for problem in body["errors"]] == ["limit", "page_state"]
