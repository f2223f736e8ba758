"""Fixtures of the fault tests: a database per test, and servers stopped however a test ends.

A killed server must not disturb any other test, so none of these share the
session's server or its database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.conftest import SHARED_SERVER_ENV, Server
from tests.faults.harness import stop


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """A new database on the server of `admin_url`, dropped afterwards, connections and all."""
    name = f"contacthub_fault_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fault_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh database for one test, on the backend under test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'faults.db'}"
        return
    with fresh_postgres_database(str(request.getfixturevalue("postgres_admin_url"))) as url:
        yield url


@pytest.fixture
def fault_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, for the faults only PostgreSQL has."""
    with fresh_postgres_database(postgres_admin_url) as url:
        yield url


Launch = Callable[..., Server]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """`launch(database_url, workers=1, env=None)` starts a server, stopped when the test ends."""
    started: list[Server] = []

    def start(database_url: str, workers: int = 1, env: dict[str, str] | None = None) -> Server:
        server = Server(database_url, env={**SHARED_SERVER_ENV, **(env or {})}, workers=workers)
        started.append(server)
        return server.start(tmp_path / f"server-{len(started)}.log")

    yield start
    for server in started:
        stop(server)
