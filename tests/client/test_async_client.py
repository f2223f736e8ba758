"""`AsyncContactHub`: the same operations as `ContactHub`, awaited."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from contacthub.client import AsyncContactHub, AuthError, DuplicateError, ValidationError
from tests.conftest import Org, contact


def phone(i: int) -> str:
    return f"91970000{i:04d}"


def test_login_add_250_and_iterate(org: Org) -> None:
    async def scenario() -> None:
        async with AsyncContactHub(org.server.url) as hub:
            token = await hub.login(org.user_id, org.password)
            assert hub.token == token
            rows = [contact(phone(i), f"F{i}", "L", company="Acme") for i in range(250)]
            result = await hub.add_contacts(rows)
            assert result.created == 250
            listed = [c async for c in hub.iter_contacts(limit=100)]
            assert [c.contact_id for c in listed] == [e.contact_id for e in result.contacts]
            assert len({c.contact_id for c in listed}) == 250

            found = [c.phone_no async for c in hub.iter_contacts(search=phone(7), limit=1)]
            assert found == [phone(7)]
            first = await hub.get_contact(str(listed[0].contact_id))
            assert first == listed[0]
            changes = [{"contact_id": listed[0].contact_id, "job_title": "CEO"}]
            assert await hub.update_contacts(changes) == 1
            assert await hub.delete_contacts([c.contact_id for c in listed[:120]]) == 120
            assert len([c async for c in hub.iter_contacts()]) == 130

    asyncio.run(scenario())


def test_errors_are_the_same_exceptions(org: Org) -> None:
    async def scenario() -> None:
        async with AsyncContactHub(org.server.url, token=org.token) as hub:
            await hub.add_contacts([contact(phone(1))])
            with pytest.raises(DuplicateError) as duplicate:
                await hub.add_contacts([contact(phone(1))])
            assert duplicate.value.duplicates[0].index == 0
            with pytest.raises(ValidationError) as invalid:
                await hub.add_contacts([contact(phone(2)), contact("12345")])
            assert [(e.index, e.field) for e in invalid.value.errors] == [(1, "phone_no")]
        async with AsyncContactHub(org.server.url, token="bad") as stranger:
            with pytest.raises(AuthError):
                await stranger.get_contact("00000000-0000-0000-0000-000000000000")

    asyncio.run(scenario())


def test_add_user(org: Org) -> None:
    async def scenario() -> None:
        async with AsyncContactHub(org.server.url) as hub:
            user = await hub.add_user(
                org.appid,
                org.secret,
                extension=110,
                name="Meera",
                phone_number="+91 92000 55555",
                password="a good long password",
            )
            assert user.agent_id == f"110_{org.appid}"
            await hub.login(user.agent_id, "a good long password")

    asyncio.run(scenario())


def test_retries_503_with_the_same_key() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(503, json={"code": 503, "msg": "Service temporarily unavailable"}),
        httpx.Response(503, json={"code": 503, "msg": "Service temporarily unavailable"}),
        httpx.Response(
            200,
            json={
                "code": 200,
                "msg": "Contact added successfully",
                "contacts": [{"contact_id": "c1", "phone_no": phone(1), "status": "created"}],
                "skipped": [],
            },
        ),
    ]

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    async def scenario() -> None:
        transport = httpx.MockTransport(handler)
        async with AsyncContactHub("http://x.test", "t", transport=transport, backoff=0) as hub:
            result = await hub.add_contacts([contact(phone(1))])
            assert result.contacts[0].contact_id == "c1"

    asyncio.run(scenario())
    assert len(seen) == 3
    assert len({request.headers["Idempotency-Key"] for request in seen}) == 1
    assert len({json.dumps(json.loads(request.content)) for request in seen}) == 1
    assert seen[0].headers["Authorization"] == "Bearer t"
