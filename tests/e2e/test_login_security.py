"""The login and app-secret throttles fail closed, and password hashing is bounded: each attack
of the security probe (issue 15), re-run against real servers on both backends.

Each server here has a fresh database, so no other test's failures count against it, and
every test that trusts a proxy speaks from client addresses of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from contacthub.services import users as users_service
from contacthub.storage.database import Database
from tests.conftest import Org, Server, new_org, new_postgres_database
from tests.e2e.test_envelope import assert_envelope
from tests.e2e.test_users import user_body

PER_ID = 10
PER_ADDRESS = 40


@contextmanager
def fresh_server(
    backend: str, request: pytest.FixtureRequest, directory: Path, **env: str
) -> Iterator[Server]:
    def start(url: str) -> Iterator[Server]:
        running = Server(url, env=env, workers=2).start(directory / "server.log")
        try:
            yield running
        finally:
            running.stop()

    if backend == "postgres":
        with new_postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
            yield from start(url)
    else:
        yield from start(f"sqlite:///{directory / 'contacthub.db'}")


LIMITS = {
    "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ID": str(PER_ID),
    "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
    "CONTACTHUB_LOGIN_WINDOW_SECONDS": "600",
}


@pytest.fixture(scope="module")
def proxied(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Behind a proxy on loopback that it trusts; one hash at a time per worker; tokens
    rechecked every second."""
    with fresh_server(
        backend,
        request,
        tmp_path_factory.mktemp("proxied"),
        CONTACTHUB_TRUSTED_PROXIES="127.0.0.1",
        CONTACTHUB_PASSWORD_HASH_CONCURRENCY="1",
        CONTACTHUB_TOKEN_RECHECK_SECONDS="1",
        **LIMITS,
    ) as running:
        yield running


def a_client_address() -> str:
    return f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


def login(org: Org, password: str, address: str) -> httpx.Response:
    return org.client.post(
        "/v2/user/login",
        json={"id": org.user_id, "password": password},
        headers={"X-Forwarded-For": address},
    )


# Not addresses: each falls back to the proxy's own (loopback), and is counted there.
HOSTILE_FORWARDED_FOR = [
    b"a" * 100,
    b"203.0.113.1, " + b"9" * 70,
    "\u00e9\u0085".encode() * 300,
    b"fe80::1%" + b"x" * 80,
    b'evil - "GET /admin HTTP/1.1" 200',
]


def test_a_long_forwarded_for_cannot_switch_the_login_throttle_off(proxied: Server) -> None:
    org = new_org(proxied)
    wrong = {"id": org.user_id, "password": "wrong password"}
    statuses = [
        org.client.post(
            "/v2/user/login",
            json=wrong,
            headers={"X-Forwarded-For": HOSTILE_FORWARDED_FOR[n % len(HOSTILE_FORWARDED_FOR)]},
        ).status_code
        for n in range(PER_ID + 2)
    ]
    assert statuses == [404] * PER_ID + [429] * 2
    # The right password is refused too: 200 would tell a guesser it was right.
    right = org.client.post(
        "/v2/user/login",
        json={"id": org.user_id, "password": org.password},
        headers={"X-Forwarded-For": HOSTILE_FORWARDED_FOR[0]},
    )
    assert_envelope(right, 429)


def test_wrong_app_secrets_with_a_long_forwarded_for_are_throttled(proxied: Server) -> None:
    org = new_org(proxied)
    headers = {"X-Forwarded-For": "b" * 200}
    statuses = [
        org.client.post(
            "/v2/user/add", json=user_body(org, secret="wrong"), headers=headers
        ).status_code
        for _ in range(PER_ID + 2)
    ]
    assert statuses == [404] * PER_ID + [429] * 2
    assert_envelope(org.client.post("/v2/user/add", json=user_body(org), headers=headers), 429)


def test_concurrent_wrong_passwords_cannot_exceed_the_limit(proxied: Server) -> None:
    org = new_org(proxied)
    address = a_client_address()

    async def attack() -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=proxied.url, timeout=60, limits=limits) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/v2/user/login",
                        json={"id": org.user_id, "password": f"guess {n}"},
                        headers={"X-Forwarded-For": address},
                    )
                    for n in range(100)
                )
            )
        return [answer.status_code for answer in answers]

    statuses = Counter(asyncio.run(attack()))
    # 404 is a password that was checked; 429 and 503 were refused before any check.
    assert set(statuses) <= {404, 429, 503}, statuses
    assert statuses[404] <= PER_ID, statuses
    assert statuses[429] >= 100 - PER_ID - statuses[503], statuses


def test_clients_behind_a_trusted_proxy_are_told_apart(proxied: Server) -> None:
    """One client's failures lock out its own address, not another client's login."""
    attacker = a_client_address()
    for n in range(PER_ADDRESS):
        answer = proxied_login(proxied, f"{n + 1}_999", "guess", attacker)
        assert answer.status_code == 404, answer.text
    assert_envelope(proxied_login(proxied, "1_998", "guess", attacker), 429)
    org = new_org(proxied)
    assert login(org, org.password, a_client_address()).status_code == 200


def proxied_login(server: Server, user_id: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/user/login",
        json={"id": user_id, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )


def test_a_client_chosen_forwarded_for_is_ignored_from_an_untrusted_peer(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """No proxy is trusted by default: rotating X-Forwarded-For does not escape the limit."""
    limits = {**LIMITS, "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "8"}
    with fresh_server(backend, request, tmp_path, **limits) as server:
        statuses = [
            proxied_login(server, f"{n + 1}_999", "guess", a_client_address()).status_code
            for n in range(10)
        ]
    assert statuses == [404] * 8 + [429] * 2


def test_concurrent_logins_hold_a_bounded_memory(proxied: Server) -> None:
    """48 concurrent logins (argon2: 64 MiB each) against 2 workers hashing one at a time."""
    assert proxied.process is not None
    server = psutil.Process(proxied.process.pid)

    def total_rss() -> int:
        processes = [server, *server.children(recursive=True)]
        return sum(process.memory_info().rss for process in processes)

    # Each worker hashes once first, so the baseline holds argon2's first arena.
    for _ in range(4):
        proxied_login(proxied, "1_1", "warm up", a_client_address())
    baseline = total_rss()
    peak = baseline
    slowest_healthz = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, slowest_healthz
        with httpx.Client(base_url=proxied.url, timeout=30) as probe:
            while not done.is_set():
                peak = max(peak, total_rss())
                started = time.monotonic()
                assert probe.get("/healthz").status_code == 200
                slowest_healthz = max(slowest_healthz, time.monotonic() - started)
                done.wait(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()

    async def attack() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=48)
        async with httpx.AsyncClient(base_url=proxied.url, timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v2/user/login",
                        json={"id": f"{n}_1", "password": "guess"},
                        headers={"X-Forwarded-For": a_client_address()},
                    )
                    for n in range(48)
                )
            )

    try:
        answers = asyncio.run(attack())
    finally:
        done.set()
        sampler.join()
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {404, 503}, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) >= 1
    # Two workers, one 64 MiB hash at a time each; the rest is the requests themselves.
    growth_mib = (peak - baseline) / 2**20
    print(
        f"login-flood: 48 concurrent logins, 2 workers x 1 hash: RSS +{growth_mib:.0f} MiB, "
        f"statuses {dict(statuses)}, slowest /healthz {slowest_healthz * 1000:.0f} ms"
    )
    assert growth_mib < 2 * 64 + 64, (growth_mib, statuses)
    assert slowest_healthz < 1.0  # the event loop never waits for a hash (the target: 0.1 s)


def test_logout_revokes_the_token_in_every_process(proxied: Server) -> None:
    org = new_org(proxied)
    dashboard = httpx.Client(base_url=proxied.url, timeout=30)
    form = dashboard.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = dashboard.post(
        "/login", data={"csrf_token": csrf, "user_id": org.user_id, "password": org.password}
    )
    assert answer.status_code == 303, answer.text
    token = dashboard.cookies["contacthub_session"]
    # Both workers see the token and keep it in their caches.
    api = httpx.Client(base_url=proxied.url, timeout=30)
    for _ in range(6):
        assert api.post("/v3/contact/get", json={"token": token}).status_code == 200
    page = dashboard.get("/")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    logged_out = time.monotonic()
    assert dashboard.post("/logout", data={"csrf_token": csrf}).status_code == 303
    refused_after = wait_until_refused(api, token)
    # CONTACTHUB_TOKEN_RECHECK_SECONDS=1 here; the slack is the machine's.
    assert refused_after - logged_out < 1 + 2
    for _ in range(6):
        assert_envelope(api.post("/v3/contact/get", json={"token": token}), 404)


def wait_until_refused(api: httpx.Client, token: str) -> float:
    """When every one of six consecutive requests (both workers) is refused; fails after 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        statuses = [
            api.post("/v3/contact/get", json={"token": token}).status_code for _ in range(6)
        ]
        if statuses == [404] * 6:
            return time.monotonic()
    pytest.fail("the revoked token was still answered after 10 s")


def test_an_api_logout_revokes_the_token(proxied: Server) -> None:
    org = new_org(proxied)
    logged_out = time.monotonic()
    answer = org.client.post(
        "/v2/user/logout", json={}, headers={"Authorization": f"Bearer {org.token}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"code": 200, "msg": "Logged out"}
    assert wait_until_refused(org.client, org.token) - logged_out < 1 + 2
    assert_envelope(org.post("/v2/user/logout", {"token": org.token}), 404)


def test_a_token_deleted_from_the_database_is_refused(proxied: Server) -> None:
    """What an operator's revocation does (`contacthub user revoke-tokens`), seen by the API."""
    org = new_org(proxied)
    for _ in range(6):
        assert org.get().status_code == 200
    database = Database(proxied.database_url)
    try:
        with database.transaction(write=True) as connection:
            revoked = users_service.revoke_tokens(connection, org.user_id)
    finally:
        database.dispose()
    deleted = time.monotonic()
    assert revoked == 1
    assert wait_until_refused(org.client, org.token) - deleted < 1 + 2
