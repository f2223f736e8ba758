"""`v3/contact/get` with `search`: prefix matches, phone digits, counts, and sealed cursors."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Org, Server, contact, new_org
from tests.e2e.test_envelope import assert_envelope

PEOPLE = {
    "emile": contact(
        "919200000101",
        "Émile",
        "Zola",
        email_id="Emile.Zola@Example.COM",
        company="Straße AG",
        job_title="Writer",
    ),
    "priya": contact(
        "919811122233", "Priya", "Sharma", email_id="priya@mail.example.org", company="Acme Corp"
    ),
    "ravi": contact("14155552671", "Ravi", "Kumar"),
    "olga": contact(
        "447911123456", "Ольга", "van der Berg", email_id="olga@berg.nl", company="acme labs"
    ),
}
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(scope="module")
def people(server: Server) -> Iterator[tuple[Org, dict[str, str]]]:
    """One organization holding PEOPLE, in that order; searches only read it."""
    org = new_org(server)
    response = org.add(list(PEOPLE.values()))
    assert response.status_code == 200, response.text
    ids = [item["contact_id"] for item in response.json()["contacts"]]
    yield org, dict(zip(PEOPLE, ids, strict=True))
    org.client.close()


def ids_of(body: dict[str, Any]) -> list[str]:
    return [item["contact_id"] for item in body["contacts"]]


def search_all(org: Org, search: Any, **params: Any) -> dict[str, Any]:
    response = org.get(search=search, limit=100, **params)
    assert response.status_code == 200, response.text
    return response.json()


def page_through(org: Org, limit: int, **params: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of a listing; returns the ids seen and the bodies."""
    seen: list[str] = []
    bodies: list[dict[str, Any]] = []
    page_state = None
    for _ in range(1000):
        response = org.get(limit=limit, page_state=page_state, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        seen += ids_of(body)
        page_state = body["page_state"]
        if page_state is None:
            return seen, bodies
    raise AssertionError("paging never ended")


def page_state_fields(response: httpx.Response) -> list[str]:
    return [problem["field"] for problem in assert_envelope(response, 400)["errors"]]


# --- what matches ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        # first name, last name, company: prefixes, any case
        ("pri", ["priya"]),
        ("PRIYA", ["priya"]),
        ("Rav", ["ravi"]),
        ("shar", ["priya"]),
        ("KUM", ["ravi"]),
        ("van der", ["olga"]),
        ("acme", ["priya", "olga"]),
        ("Acme C", ["priya"]),
        # Unicode case folding
        ("ÉMILE", ["emile"]),
        ("émi", ["emile"]),
        ("ОЛЬ", ["olga"]),
        ("STRASSE", ["emile"]),
        ("strass", ["emile"]),
        ("straße ag", ["emile"]),
        # e-mail: the whole address, its start, or the start of its domain
        ("emile.zola@example.com", ["emile"]),
        ("EMILE.Z", ["emile"]),
        ("priya@mail", ["priya"]),
        ("mail.example", ["priya"]),
        ("Example.COM", ["emile"]),
        ("example", ["emile"]),
        ("ber", ["olga"]),
        ("berg.nl", ["olga"]),
        # phone: the search's digits anywhere in the number
        ("+91 (920)", ["emile"]),
        ("5552671", ["ravi"]),
        ("1112", ["priya", "olga"]),
        ("0101", ["emile"]),
        ("14155552671", ["ravi"]),
        # trimmed
        ("  pri  ", ["priya"]),
    ],
)
def test_a_search_finds_exactly_the_matching_contacts(
    people: tuple[Org, dict[str, str]], search: str, expected: list[str]
) -> None:
    org, ids = people
    body = search_all(org, search)
    assert ids_of(body) == [ids[name] for name in expected]
    assert body["count"] == len(expected)
    assert body["page_state"] is None


@pytest.mark.parametrize(
    "search",
    [
        "iya",  # middle of a first name
        "arma",  # middle of a last name
        "der",  # middle of a last name, after a space
        "corp",  # middle of a company
        "labs",
        "zola@example.com",  # middle of an address
        "ample.com",  # middle of a domain
        "org",
        "writer",  # job titles are not searched
        "emilé",
        "+",  # no digits: phone numbers are not searched at all
        "()",
        "-.",
        "٩١٩٢٠",  # Arabic-Indic digits are not ASCII digits
        "zzz",
    ],
)
def test_a_search_matches_nothing_in_the_middle_or_elsewhere(
    people: tuple[Org, dict[str, str]], search: str
) -> None:
    org, _ = people
    assert search_all(org, search) == {"code": 200, "contacts": [], "count": 0, "page_state": None}


@pytest.mark.parametrize("search", [None, "", "   ", " \t\n "])
def test_null_empty_or_blank_search_is_no_search(
    people: tuple[Org, dict[str, str]], search: str | None
) -> None:
    org, ids = people
    body = search_all(org, search)
    assert ids_of(body) == list(ids.values())
    assert body["count"] == 4


def test_count_is_the_number_of_matches_not_the_page_size(
    people: tuple[Org, dict[str, str]],
) -> None:
    org, ids = people
    first = org.get(search="ACME", limit=1).json()
    assert ids_of(first) == [ids["priya"]]
    assert first["count"] == 2
    assert first["page_state"] is not None
    second = org.get(search="ACME", limit=1, page_state=first["page_state"]).json()
    assert ids_of(second) == [ids["olga"]]
    assert second["count"] == 2
    assert second["page_state"] is None


def test_matching_contacts_carry_every_field(people: tuple[Org, dict[str, str]]) -> None:
    org, ids = people
    [found] = search_all(org, "Zol")["contacts"]
    assert {key: found[key] for key in PEOPLE["emile"]} == {
        **PEOPLE["emile"],
        "email_id": "Emile.Zola@example.com",
    }
    assert found["contact_id"] == ids["emile"]
    assert found["created_at"] == found["updated_at"]


def test_with_contact_id_the_search_is_ignored(people: tuple[Org, dict[str, str]]) -> None:
    org, ids = people
    for search in ["zzz", 5, "x" * 500]:
        response = org.get(contact_id=ids["ravi"], search=search)
        assert response.status_code == 200, response.text
        body = response.json()
        assert ids_of(body) == [ids["ravi"]]
        assert body["count"] == 4


def test_a_long_company_that_folds_longer_is_stored_and_found(org: Org) -> None:
    # "ß" folds to "ss": a company of 200 characters has a folded key of 400.
    response = org.add([contact("919200000102", company="ß" * 200)])
    assert response.status_code == 200, response.text
    [added] = response.json()["contacts"]
    assert ids_of(search_all(org, "SS" * 50)) == [added["contact_id"]]
    assert ids_of(search_all(org, "ß" * 100)) == [added["contact_id"]]


def test_searches_see_updates_and_deletes(org: Org) -> None:
    [kept, dropped] = [
        item["contact_id"]
        for item in org.add(
            [contact("919200000103", "Anna"), contact("919200000104", "Annika")]
        ).json()["contacts"]
    ]
    assert ids_of(search_all(org, "ann")) == [kept, dropped]
    renamed = org.post(
        "/v3/contact/update",
        {"token": org.token, "contacts": [{"contact_id": kept, "first_name": "Berta"}]},
    )
    assert renamed.status_code == 200, renamed.text
    assert ids_of(search_all(org, "ann")) == [dropped]
    assert ids_of(search_all(org, "BERT")) == [kept]
    deleted = org.post("/v3/contact/delete", {"token": org.token, "contact_ids": [dropped]})
    assert deleted.status_code == 200, deleted.text
    assert search_all(org, "ann")["count"] == 0


# --- paging through a search -----------------------------------------------------


def add_mixed(org: Org, count: int) -> tuple[list[str], list[str]]:
    """`count` contacts, every third named Match<n>; returns (matching ids, all ids)."""
    batch = [
        contact(f"91986{n:07d}", first=f"Match{n}" if n % 3 == 0 else f"Other{n}")
        for n in range(count)
    ]
    response = org.add(batch)
    assert response.status_code == 200, response.text
    ids = [item["contact_id"] for item in response.json()["contacts"]]
    return [contact_id for n, contact_id in enumerate(ids) if n % 3 == 0], ids


def test_paging_through_a_search_sees_each_match_once_in_creation_order(org: Org) -> None:
    matching, _ = add_mixed(org, 30)
    seen, bodies = page_through(org, 3, search="MATCH")
    assert seen == matching
    assert [len(body["contacts"]) for body in bodies] == [3, 3, 3, 1]
    assert {body["count"] for body in bodies} == {10}


def test_an_exact_last_page_of_a_search_has_no_page_state(org: Org) -> None:
    matching, _ = add_mixed(org, 30)
    seen, bodies = page_through(org, 5, search="match")
    assert seen == matching
    assert len(bodies) == 2


def test_paging_through_a_phone_search(org: Org) -> None:
    _, ids = add_mixed(org, 30)
    # 91986000000n .. 9198600000nn: "0002" occurs in n = 2, 20..29
    seen, _ = page_through(org, 4, search="00 02")
    assert seen == [ids[2], *ids[20:30]]


def test_the_same_search_written_differently_may_continue(org: Org) -> None:
    matching, _ = add_mixed(org, 30)
    first = org.get(search="match", limit=4).json()
    rest = org.get(search="  MATCH ", limit=100, page_state=first["page_state"])
    assert rest.status_code == 200, rest.text
    assert ids_of(first) + ids_of(rest.json()) == matching


@pytest.mark.parametrize(
    ("issued_for", "used_with"),
    [("match", "other"), ("match", None), (None, "match"), ("match", "matc"), ("match", "")],
)
def test_a_page_state_used_with_another_search_is_400(
    org: Org, issued_for: str | None, used_with: str | None
) -> None:
    add_mixed(org, 30)
    page_state = org.get(search=issued_for, limit=2).json()["page_state"]
    assert page_state is not None
    response = org.get(search=used_with, limit=2, page_state=page_state)
    assert page_state_fields(response) == ["page_state"]


def test_a_page_state_from_another_organization_with_the_same_search_is_400(
    org: Org, org_in: Org
) -> None:
    add_mixed(org, 30)
    add_mixed(org_in, 30)
    foreign = org_in.get(search="match", limit=2).json()["page_state"]
    assert foreign is not None
    response = org.get(search="match", limit=2, page_state=foreign)
    assert page_state_fields(response) == ["page_state"]


@pytest.fixture
def issued_page_states(org: Org) -> list[tuple[str, str | None]]:
    """Real cursors and the searches they were issued for; their encodings differ in length."""
    add_mixed(org, 30)
    issued = []
    for search, limit in [(None, 1), (None, 12), ("match", 1), ("other", 15)]:
        state = org.get(search=search, limit=limit).json()["page_state"]
        assert isinstance(state, str)
        assert org.get(search=search, page_state=state).status_code == 200  # untouched: good
        issued.append((state, search))
    return issued


def assert_every_variant_refused(
    org: Org, original: str, search: str | None, variants: list[str]
) -> None:
    accepted = []
    for variant in variants:
        assert variant != original
        response = org.get(search=search, page_state=variant)
        if response.status_code != 400:
            accepted.append((variant, response.status_code))
        else:
            assert page_state_fields(response) == ["page_state"]
    assert accepted == [], f"altered copies of {original!r} (search {search!r}) were accepted"


def test_a_truncated_or_extended_page_state_is_400(
    org: Org, issued_page_states: list[tuple[str, str | None]]
) -> None:
    for state, search in issued_page_states:
        variants = [state[:-1], state[1:], state[: len(state) // 2], state + "A", "A" + state]
        assert_every_variant_refused(org, state, search, variants)


def test_a_page_state_altered_in_any_one_character_is_400(
    org: Org, issued_page_states: list[tuple[str, str | None]]
) -> None:
    for state, search in issued_page_states:
        variants = []
        for position, char in enumerate(state):
            # The neighbour in the base64url alphabet differs in the lowest bit only.
            replacement = BASE64URL[BASE64URL.index(char) ^ 1] if char in BASE64URL else "A"
            variants.append(state[:position] + replacement + state[position + 1 :])
        assert_every_variant_refused(org, state, search, variants)


@pytest.mark.parametrize("extra", ["!", " ", "\n", ".", "=", "=="])
def test_a_page_state_with_a_character_inserted_is_400(
    org: Org, issued_page_states: list[tuple[str, str | None]], extra: str
) -> None:
    for state, search in issued_page_states:
        middle = len(state) // 2
        variants = [extra + state, state[:middle] + extra + state[middle:], state + extra]
        assert_every_variant_refused(org, state, search, variants)


# --- invalid searches --------------------------------------------------------------


@pytest.mark.parametrize(
    "search",
    [
        "a" * 101,
        "é" * 101,
        " " + "b" * 101 + " ",
        "pr\u0000i",
        "pri\u0000",
        "pr\ti",
        "a\nb",
        "x\u007fy",
        "x\u001by",
        "x\u0085y",
        5,
        0,
        1.5,
        True,
        False,
        ["pri"],
        {"q": "pri"},
    ],
)
def test_an_invalid_search_is_400(people: tuple[Org, dict[str, str]], search: Any) -> None:
    org, _ = people
    body = assert_envelope(org.get(search=search), 400)
    assert body["msg"] == "Invalid request parameters"
    assert [problem["field"] for problem in body["errors"]] == ["search"]


@pytest.mark.parametrize("search", ["a" * 100, " " + "b" * 100 + " ", "😀" * 100, "é" * 100])
def test_a_search_of_100_characters_is_accepted(
    people: tuple[Org, dict[str, str]], search: str
) -> None:
    org, _ = people
    assert search_all(org, search)["count"] == 0


def test_an_invalid_search_and_limit_are_both_listed(people: tuple[Org, dict[str, str]]) -> None:
    org, _ = people
    body = assert_envelope(org.get(search=7, limit=0), 400)
    assert sorted(problem["field"] for problem in body["errors"]) == ["limit", "search"]


def test_an_unknown_token_is_404_before_the_search_is_judged(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v3/contact/get", json={"token": "nope", "search": "x" * 500}
    )
    assert_envelope(response, 404)


# --- paging while others write ------------------------------------------------------


def test_paging_while_contacts_are_added_and_deleted_sees_each_survivor_once(org: Org) -> None:
    """250 contacts stay; a second client adds new ones and deletes others meanwhile."""
    kept: list[str] = []
    victims: list[str] = []
    for round_ in range(5):  # kept and doomed contacts interleave in creation order
        batch = [contact(f"91987{round_:02d}{n:05d}", first="Keep") for n in range(50)]
        response = org.add(batch)
        assert response.status_code == 200, response.text
        kept += [item["contact_id"] for item in response.json()["contacts"]]
        batch = [contact(f"91985{round_:02d}{n:05d}", first="Doomed") for n in range(20)]
        response = org.add(batch)
        assert response.status_code == 200, response.text
        victims += [item["contact_id"] for item in response.json()["contacts"]]
    assert len(kept) == 250

    added: list[str] = []
    deleted: set[str] = set()
    errors: list[str] = []
    rounds = 0
    changed = threading.Condition()
    stop = threading.Event()
    shuffled = victims[:]
    random.Random(7).shuffle(shuffled)

    def mutate() -> None:
        nonlocal rounds
        serial = 0
        with httpx.Client(base_url=org.server.url, timeout=60) as client:
            while not stop.is_set():
                batch = []
                for _ in range(3):
                    batch.append(contact(f"91984{serial:07d}", first="New"))
                    serial += 1
                response = client.post(
                    "/v3/contact/add", json={"token": org.token, "contacts": batch}
                )
                if response.status_code != 200:
                    errors.append(f"add: {response.status_code} {response.text}")
                    return
                fresh = [item["contact_id"] for item in response.json()["contacts"]]
                added.extend(fresh)
                doomed = [shuffled.pop() for _ in range(min(2, len(shuffled)))] or fresh[:2]
                response = client.post(
                    "/v3/contact/delete", json={"token": org.token, "contact_ids": doomed}
                )
                if response.status_code != 200 or response.json()["deleted"] != len(doomed):
                    errors.append(f"delete: {response.status_code} {response.text}")
                    return
                deleted.update(doomed)
                with changed:
                    rounds += 1
                    changed.notify_all()

    def wait_for_a_round(target: int) -> None:
        """Let at least one add and one delete land between two pages."""
        with changed:
            assert changed.wait_for(lambda: rounds >= target or bool(errors), timeout=60)

    mutator = threading.Thread(target=mutate)
    mutator.start()
    seen: list[str] = []
    pages = 0
    try:
        page_state = None
        while True:
            wait_for_a_round(rounds + 1)
            assert not errors, errors
            response = org.get(limit=100, page_state=page_state)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += ids_of(body)
            pages += 1
            page_state = body["page_state"]
            if page_state is None:
                break
            assert pages < 100, "paging never ended"
    finally:
        stop.set()
        mutator.join(timeout=120)
    assert not mutator.is_alive()
    assert not errors, errors

    repeated = [contact_id for contact_id, n in Counter(seen).items() if n > 1]
    assert repeated == []
    kept_set = set(kept)
    assert [contact_id for contact_id in seen if contact_id in kept_set] == kept
    assert set(seen) <= kept_set | set(victims) | set(added)
    assert pages >= 4
    assert rounds >= pages
    assert len(deleted) >= pages * 2
    # Everything not deleted is still there, and nothing else.
    alive = [i for i in kept + victims + added if i not in deleted]
    assert org.get().json()["count"] == len(alive)


def test_a_contact_matching_on_several_fields_is_counted_once(org: Org) -> None:
    org.add(
        [
            contact(
                "919880000001", "Ravi", "Rao", email_id="ravi@rajput.example", company="Ra Ltd"
            ),
            contact("919880000002", "Ravi", "Kumar"),  # no company or e-mail: NULL keys
            contact("919880000003", "Anil", "Menon", email_id="anil@ramco.example"),
            contact("919880000004", "Anil", "Menon", company="Raheja"),
            contact("919880000005", "Anil", "Menon"),
        ]
    )
    body = org.get(search="ra", limit=100).json()
    assert body["count"] == 4
    assert len(body["contacts"]) == 4
    assert org.get(search="98800000", limit=100).json()["count"] == 5
    assert org.get(search="ra 98800000", limit=100).json()["count"] == 5
