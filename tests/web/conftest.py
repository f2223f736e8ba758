"""A dashboard user: an httpx client that logs in through the login form, as a browser does."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SHARED_SERVER_ENV, Org, Server, new_org

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, html
    return found.group(1)


class Dashboard:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.http = httpx.Client(base_url=org.server.url, timeout=30)
        self.csrf = ""

    def login_response(self, password: str | None = None) -> httpx.Response:
        form = self.http.get("/login")
        assert form.status_code == 200, form.text
        return self.http.post(
            "/login",
            data={
                "csrf_token": csrf_of(form.text),
                "user_id": self.org.user_id,
                "password": self.org.password if password is None else password,
            },
        )

    def login(self) -> Dashboard:
        answer = self.login_response()
        assert answer.status_code == 303, answer.text
        self.csrf = csrf_of(self.http.get("/").text)
        return self

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)

    def contacts(self) -> list[dict[str, Any]]:
        answer = self.org.get(limit=100)
        assert answer.status_code == 200, answer.text
        contacts: list[dict[str, Any]] = answer.json()["contacts"]
        return contacts


@pytest.fixture
def dashboard(org: Org) -> Iterator[Dashboard]:
    user = Dashboard(org).login()
    yield user
    user.http.close()


@dataclass
class OwnServer:
    """A server of one test's own, on SQLite, with its temporary files in a directory of its own."""

    server: Server
    temp_dir: Path

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def new_org(self) -> Org:
        return new_org(self.server)


Launch = Callable[..., OwnServer]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """`launch(**env)` starts a server (one process) with those settings, stopped after the test."""
    started: list[Server] = []

    def start(**env: str) -> OwnServer:
        number = len(started) + 1
        temp_dir = tmp_path / f"tmp-{number}"
        temp_dir.mkdir()
        server = Server(
            f"sqlite:///{tmp_path / f'server-{number}.db'}",
            env={**SHARED_SERVER_ENV, "TMPDIR": str(temp_dir), **env},
        )
        started.append(server)
        server.start(tmp_path / f"server-{number}.log")
        return OwnServer(server, temp_dir)

    yield start
    for server in started:
        server.stop()
