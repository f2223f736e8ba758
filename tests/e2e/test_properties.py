"""Generated requests against a real server: every answer is 200 or 400, and contacts round-trip."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacthub.domain.contacts import CONTACT_FIELDS, parse_contact_batch
from tests.conftest import Org, contact
from tests.domain.test_properties import JSON_VALUES

_numbers = itertools.count()
SERVER_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fresh_phone() -> str:
    return f"9194{next(_numbers) % 100_000_000:08d}"


@SERVER_SETTINGS
@given(field=st.sampled_from([*CONTACT_FIELDS, "nickname"]), value=JSON_VALUES)
def test_any_json_value_in_any_field_gets_200_or_400(org: Org, field: str, value: Any) -> None:
    response = org.add([{**contact(fresh_phone()), field: value}])
    assert response.status_code in {200, 400}, response.text
    assert response.json()["code"] == response.status_code


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=100
).filter(lambda text: text.strip())


@SERVER_SETTINGS
@given(
    first=NAMES,
    last=NAMES,
    email=st.none() | st.emails(),
    company=st.none() | st.text(max_size=200),
    job_title=st.none() | st.text(max_size=200),
)
def test_every_accepted_contact_round_trips_unchanged(
    org: Org, first: str, last: str, email: str | None, company: str | None, job_title: str | None
) -> None:
    item = contact(fresh_phone(), first, last, email_id=email, company=company, job_title=job_title)
    drafts, problems = parse_contact_batch([item], default_region=None)
    response = org.add([item])
    if problems:
        assert response.status_code == 400, response.text
        return
    assert response.status_code == 200, response.text
    contact_id = response.json()["contacts"][0]["contact_id"]
    [stored] = org.get(contact_id=contact_id).json()["contacts"]
    assert {name: stored[name] for name in CONTACT_FIELDS} == {
        name: getattr(drafts[0], name) for name in CONTACT_FIELDS
    }
