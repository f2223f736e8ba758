"""`ContactHub` against a real server: every method, and every error with its data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from contacthub.client import (
    APIError,
    AuthError,
    Contact,
    ContactHub,
    DuplicateError,
    ValidationError,
)
from tests.conftest import Org, contact


class Recording(httpx.BaseTransport):
    """A real HTTP transport that remembers the requests it sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def phone(i: int) -> str:
    return f"91960000{i:04d}"


def many(n: int, start: int = 0, **extra: str) -> list[dict[str, str]]:
    return [contact(phone(i), f"First{i}", f"Last{i}", **extra) for i in range(start, start + n)]


@pytest.fixture
def hub(org: Org) -> Iterator[ContactHub]:
    with ContactHub(org.server.url, backoff=0) as client:
        client.login(org.user_id, org.password)
        yield client


def test_login_returns_and_keeps_a_token(org: Org) -> None:
    with ContactHub(org.server.url) as client:
        token = client.login(org.user_id, org.password)
        assert isinstance(token, str)
        assert len(token) >= 22
        assert client.token == token
        assert list(client.iter_contacts()) == []


def test_add_250_in_three_batches_then_iterate_sees_each_once(org: Org) -> None:
    recording = Recording()
    with ContactHub(org.server.url, transport=recording) as client:
        client.login(org.user_id, org.password)
        result = client.add_contacts(many(250))
        adds = [r for r in recording.requests if r.url.path == "/v3/contact/add"]
        assert len(adds) == 3
        keys = [r.headers["Idempotency-Key"] for r in adds]
        assert len(set(keys)) == 3
        assert all(uuid.UUID(key).version == 4 for key in keys)

        assert len(result.contacts) == 250
        assert result.created == 250
        assert result.skipped == ()
        assert [entry.phone_no for entry in result.contacts] == [phone(i) for i in range(250)]

        listed = list(client.iter_contacts(limit=100))
        pages = [r for r in recording.requests if r.url.path == "/v3/contact/get"]
        assert len(pages) == 3
    assert len(listed) == 250
    assert [c.contact_id for c in listed] == [entry.contact_id for entry in result.contacts]
    assert all(isinstance(c, Contact) for c in listed)
    assert listed[7].first_name == "First7"


def test_iter_contacts_with_search_follows_page_state(hub: ContactHub) -> None:
    hub.add_contacts(many(5) + many(3, start=10, company="Acme Corp"))
    found = list(hub.iter_contacts(search="acme", limit=2))
    assert [c.phone_no for c in found] == [phone(10), phone(11), phone(12)]
    assert all(c.company == "Acme Corp" for c in found)
    assert list(hub.iter_contacts(search="nobody")) == []


def test_iter_contacts_refuses_a_limit_the_server_would_refuse(hub: ContactHub) -> None:
    with pytest.raises(ValueError, match="limit"):
        next(hub.iter_contacts(limit=101))


def test_get_contact(hub: ContactHub) -> None:
    added = hub.add_contacts([contact(phone(1), "Priya", "Sharma", email_id="p@example.com")])
    contact_id = added.contacts[0].contact_id
    assert contact_id is not None
    found = hub.get_contact(contact_id)
    assert found is not None
    assert (found.contact_id, found.first_name, found.email_id) == (
        contact_id,
        "Priya",
        "p@example.com",
    )
    assert found.created_at == found.updated_at
    assert hub.get_contact(str(uuid.uuid4())) is None


def test_update_contacts_in_batches(hub: ContactHub) -> None:
    added = hub.add_contacts(many(120))
    changes = [{"contact_id": e.contact_id, "job_title": "Buyer"} for e in added.contacts]
    assert hub.update_contacts(changes) == 120
    assert {c.job_title for c in hub.iter_contacts()} == {"Buyer"}


def test_delete_contacts_in_batches(hub: ContactHub) -> None:
    added = hub.add_contacts(many(150))
    ids = [str(e.contact_id) for e in added.contacts]
    assert hub.delete_contacts([*ids[:130], str(uuid.uuid4())]) == 130
    assert [c.contact_id for c in hub.iter_contacts()] == ids[130:]
    assert hub.delete_contacts(ids[130]) == 1
    assert hub.delete_contacts(ids[130]) == 0


def test_on_duplicate_skip_reports_skipped_indexes_over_the_whole_input(hub: ContactHub) -> None:
    stored = hub.add_contacts([contact(phone(150))])
    result = hub.add_contacts(many(200), on_duplicate="skip")
    assert result.skipped == (150,)
    assert result.contacts[150].status == "skipped"
    assert result.contacts[150].contact_id == stored.contacts[0].contact_id
    assert result.created == 199


def test_on_duplicate_update(hub: ContactHub) -> None:
    stored = hub.add_contacts([contact(phone(1), "Old", "Name")])
    result = hub.add_contacts([contact(phone(1), "New", "Name")], on_duplicate="update")
    assert result.updated == 1
    assert result.contacts[0].contact_id == stored.contacts[0].contact_id
    found = hub.get_contact(str(stored.contacts[0].contact_id))
    assert found is not None
    assert found.first_name == "New"


def test_validate_only_writes_nothing(hub: ContactHub) -> None:
    result = hub.add_contacts(many(3), validate_only=True)
    assert [e.status for e in result.contacts] == ["created"] * 3
    assert all(e.contact_id is None for e in result.contacts)
    assert list(hub.iter_contacts()) == []


def test_add_user_then_log_in_as_that_user(org: Org, hub: ContactHub) -> None:
    user = hub.add_user(
        org.appid,
        org.secret,
        extension=102,
        name="Ravi Kumar",
        phone_number="+91 92000 22222",
        password="another good password",
        start_time=9,
        end_time=18,
        sms_alert=True,
    )
    assert (user.agent_id, user.name, user.extension) == (f"102_{org.appid}", "Ravi Kumar", 102)
    with ContactHub(org.server.url) as other:
        other.login(user.agent_id, "another good password")
        # The same organization: it sees what the first user adds.
        hub.add_contacts([contact(phone(1))])
        assert [c.phone_no for c in other.iter_contacts()] == [phone(1)]


def test_add_user_with_a_taken_extension_is_a_duplicate_error(org: Org, hub: ContactHub) -> None:
    with pytest.raises(DuplicateError) as raised:
        hub.add_user(
            org.appid,
            org.secret,
            extension=101,
            name="Again",
            phone_number="+91 92000 33333",
            password="another good password",
        )
    assert raised.value.status_code == 409
    assert raised.value.duplicates == []


def test_add_user_with_a_wrong_secret_is_an_auth_error(org: Org, hub: ContactHub) -> None:
    with pytest.raises(AuthError) as raised:
        hub.add_user(
            org.appid,
            "wrong",
            extension=103,
            name="X",
            phone_number="+91 92000 44444",
            password="another good password",
        )
    assert raised.value.code == 404


def test_a_bad_phone_is_a_validation_error_with_indexes_over_the_whole_input(
    hub: ContactHub,
) -> None:
    rows = many(150)
    rows[120] = contact("12345", "Bad", "Phone")
    with pytest.raises(ValidationError) as raised:
        hub.add_contacts(rows)
    error = raised.value
    assert (error.status_code, error.code, error.msg) == (400, 400, "Invalid request parameters")
    assert [(e.index, e.field) for e in error.errors] == [(120, "phone_no")]
    assert error.response.json()["errors"][0]["index"] == 20  # the server counts per batch
    # The first batch was written, and the exception says so.
    assert error.completed is not None
    assert error.completed.created == 100
    assert len(list(hub.iter_contacts())) == 100


def test_a_stored_number_is_a_duplicate_error_with_its_contact_id(hub: ContactHub) -> None:
    first = hub.add_contacts([contact(phone(5))])
    rows = [*many(3, start=200), contact(phone(5), "Again", "Doe"), contact(phone(200))]
    with pytest.raises(DuplicateError) as raised:
        hub.add_contacts(rows)
    duplicates = raised.value.duplicates
    assert raised.value.status_code == 409
    assert [(d.index, d.phone_no) for d in duplicates] == [(3, phone(5)), (4, phone(200))]
    assert duplicates[0].contact_id == first.contacts[0].contact_id
    assert duplicates[1].duplicate_of_index == 0
    assert raised.value.completed is not None
    assert raised.value.completed.contacts == ()


def test_a_bad_token_is_an_auth_error(org: Org) -> None:
    with ContactHub(org.server.url, token="not-a-token") as client:
        with pytest.raises(AuthError) as raised:
            client.add_contacts([contact(phone(1))])
        assert raised.value.status_code == 404
        assert raised.value.msg == "Authenticated user record not found"
        with pytest.raises(AuthError):
            list(client.iter_contacts())


def test_a_wrong_password_is_an_auth_error(org: Org) -> None:
    with ContactHub(org.server.url) as client, pytest.raises(AuthError) as raised:
        client.login(org.user_id, "not my password")
    assert raised.value.msg == "Invalid user id or password"
    assert client.token is None


def test_an_unknown_path_is_an_api_error_not_an_auth_error(org: Org) -> None:
    client = ContactHub(f"{org.server.url}/nowhere", token=org.token)
    with client, pytest.raises(APIError) as raised:
        client.get_contact(str(uuid.uuid4()))
    assert type(raised.value) is APIError
    assert raised.value.status_code == 404


def test_a_call_repeated_with_its_own_key_writes_nothing_twice(org: Org) -> None:
    rows = [contact(f"9193100{n:05d}") for n in range(150)]
    with ContactHub(org.server.url, org.token) as hub:
        first = hub.add_contacts(rows, idempotency_key="job-42")
        again = hub.add_contacts(rows, idempotency_key="job-42")
    assert again == first
    assert first.created == 150
    assert org.get().json()["count"] == 150
