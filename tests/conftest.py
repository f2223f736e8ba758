"""Shared fixtures: real server processes on loopback ports, on SQLite and on PostgreSQL.

Each backend gets one server for the whole run; each test gets its own app
(organization), so tests never see each other's contacts. PostgreSQL tests
read CONTACTHUB_TEST_POSTGRES_URL, create a database of their own and drop it
afterwards; without the variable they skip, saying why.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from contacthub.services import apps as apps_service
from contacthub.storage.database import Database

POSTGRES_ENV = "CONTACTHUB_TEST_POSTGRES_URL"
CONTACTHUB = str(Path(sys.executable).with_name("contacthub"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONTACTHUB, *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Server:
    """A `contacthub serve` process and the database it serves."""

    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_path: Path) -> Server:
        self.log_path = log_path
        env = {**os.environ, **self.env}
        env.pop("CONTACTHUB_DATABASE_URL", None)
        command = [
            CONTACTHUB, "serve", "--port", str(self.port), "--database-url", self.database_url,
            "--workers", str(self.workers),
        ]  # fmt: skip
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def create_app(self, name: str = "Acme", default_region: str | None = None) -> dict[str, Any]:
        """Create an app in-process (the CLI has tests of its own; this is 10x faster)."""
        database = Database(self.database_url)
        try:
            with database.transaction(write=True) as connection:
                app = apps_service.create(connection, name=name, default_region=default_region)
        finally:
            database.dispose()
        return {"appid": app.appid, "secret": app.secret, "name": app.name}


@dataclass
class Org:
    """An app with one logged-in user, on a running server."""

    server: Server
    appid: int
    secret: str
    user_id: str
    password: str
    token: str
    client: httpx.Client

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.client.post(path, **kwargs)

    def add(self, contacts: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        return self.post("/v3/contact/add", {"token": self.token, "contacts": contacts, **extra})

    def get(self, **params: Any) -> httpx.Response:
        return self.post("/v3/contact/get", {"token": self.token, **params})


def new_org(server: Server, default_region: str | None = None) -> Org:
    app = server.create_app(name=f"org-{secrets.token_hex(3)}", default_region=default_region)
    client = httpx.Client(base_url=server.url, timeout=30)
    password = "correct horse battery"
    added = client.post(
        "/v2/user/add",
        json={
            "appid": app["appid"],
            "secret": app["secret"],
            "extension": 101,
            "name": "Asha Rao",
            "phone_number": "+91 92000 11111",
            "password": password,
        },
    )
    assert added.status_code == 200, added.text
    user_id = added.json()["agent"]["agent_id"]
    login = client.post("/v2/user/login", json={"id": user_id, "password": password})
    assert login.status_code == 200, login.text
    return Org(
        server, app["appid"], app["secret"], user_id, password, login.json()["token"], client
    )


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CONTACTHUB_REQUIRE_POSTGRES"):
        pytest.fail(f"CONTACTHUB_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    return url


@contextmanager
def new_postgres_database(admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped on leaving."""
    name = f"contacthub_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    """A database of this run's own, dropped at the end. Unreachable PostgreSQL fails, not skips."""
    with new_postgres_database(postgres_admin_url) as url:
        yield url


# Generous limits for the shared servers: the login throttle has tests of its own. They
# stand behind a proxy on loopback (tests send X-Forwarded-Proto: https as a TLS proxy does);
# tests/e2e/test_login_security.py has servers that trust no proxy.
SHARED_SERVER_ENV = {
    "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    "CONTACTHUB_TRUSTED_PROXIES": "127.0.0.1",
}


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_database"))
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'contacthub.db'}"


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(database_url, env=SHARED_SERVER_ENV)
    running.start(tmp_path_factory.mktemp("logs") / "server.log")
    yield running
    running.stop()


@pytest.fixture
def org(server: Server) -> Iterator[Org]:
    made = new_org(server)
    yield made
    made.client.close()


@pytest.fixture
def org_in(server: Server) -> Iterator[Org]:
    """An organization whose default region is India: national numbers are read there."""
    made = new_org(server, default_region="IN")
    yield made
    made.client.close()


def contact(phone: str, first: str = "John", last: str = "Doe", **extra: Any) -> dict[str, Any]:
    return {"phone_no": phone, "first_name": first, "last_name": last, **extra}
