"""`contacthub init`: a new installation's organization, first user and token in one command."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_failures import clean_env, run
from tests.conftest import CONTACTHUB, Server, new_org, new_postgres_database

FIRST_USER = ("--name", "Acme", "--user-name", "Asha Rao", "--phone", "+91 92000 11111")
PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database nothing has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    with new_postgres_database(admin_url) as url:
        yield url


def init(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run("init", *FIRST_USER, "--database-url", database_url, *args, cwd=cwd)


def test_init_then_one_request_stores_the_first_contact(
    fresh_database: str, tmp_path: Path
) -> None:
    server = Server(fresh_database).start(tmp_path / "server.log")
    try:
        done = init(fresh_database, "--password", PASSWORD, "--url", server.url, "--json",
                    cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        made = json.loads(done.stdout)
        assert set(made) == {"appid", "secret", "name", "user_id", "token", "url"}
        assert made["user_id"] == f"101_{made['appid']}"
        assert made["url"] == server.url

        added = httpx.post(
            f"{server.url}/v3/contact/add",
            headers={"Authorization": f"Bearer {made['token']}"},
            json={"contacts": [{"phone_no": "919200000000", "first_name": "John",
                                "last_name": "Doe"}]},
        )  # fmt: skip
        assert added.status_code == 200, added.text
        assert added.json()["contacts"][0]["status"] == "created"

        # The remote commands need nothing but the two variables init printed.
        env = {"CONTACTHUB_URL": made["url"], "CONTACTHUB_TOKEN": made["token"]}
        exported = run("export", "--format", "jsonl", env=env, cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        assert json.loads(exported.stdout)["phone_no"] == "919200000000"

        # The dashboard's login (the user id and password), and the app's secret, work too.
        login = httpx.post(
            f"{server.url}/v2/user/login", json={"id": made["user_id"], "password": PASSWORD}
        )
        assert login.status_code == 200
        another = run("user", "add", "--appid", str(made["appid"]), "--secret", made["secret"],
                      "--extension", "102", "--name", "Ravi", "--phone", "+91 92000 22222",
                      "--password", PASSWORD, env=env, cwd=tmp_path)  # fmt: skip
        assert another.returncode == 0, another.stderr
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl, to run the printed steps")
def test_the_printed_next_steps_work_as_they_are(tmp_path: Path) -> None:
    """init before the server starts; then the printed export and curl lines, pasted as they are."""
    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    server = Server(database_url)
    done = init(database_url, "--password", PASSWORD, "--url", server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"Dashboard: {server.url}/" in done.stdout
    assert "log in as 101_" in done.stdout
    export = next(line.strip() for line in lines if line.strip().startswith("export "))
    assert f"CONTACTHUB_URL={server.url}" in export
    assert "CONTACTHUB_TOKEN=" in export
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    curl = "\n".join(lines[start : start + 2])
    server.start(tmp_path / "server.log")
    try:
        answer = subprocess.run(["bash", "-c", f"{export}\n{curl}"], capture_output=True,
                                text=True, timeout=30, check=True, env=clean_env())  # fmt: skip
        assert json.loads(answer.stdout)["contacts"][0]["status"] == "created"
    finally:
        server.stop()


def test_init_refuses_a_second_organization_unless_forced(
    fresh_database: str, tmp_path: Path
) -> None:
    first = init(fresh_database, "--password", PASSWORD, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    appid = json.loads(first.stdout)["appid"]

    again = init(fresh_database, "--password", PASSWORD, "--json", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.count("\n") == 1
    assert again.stderr.startswith("error: ")
    assert str(appid) in again.stderr
    assert "--force" in again.stderr

    forced = init(fresh_database, "--password", PASSWORD, "--json", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["appid"] != appid


def test_a_refused_init_leaves_nothing_behind(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for bad in (("--password", "short"), ("--password", PASSWORD, "--extension", "0")):
        refused = init(database_url, *bad, cwd=tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: the first user: ")
    # Had a refused init stored its organization, this one would be refused.
    done = init(database_url, "--password", PASSWORD, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_an_existing_app_made_by_app_create_counts(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run("app", "create", "--name", "Old", "--database-url", database_url).returncode == 0
    refused = init(database_url, "--password", PASSWORD, cwd=tmp_path)
    assert refused.returncode == 1
    assert "already holds an organization" in refused.stderr


def test_revoke_tokens_refuses_a_users_every_token(server: Server, tmp_path: Path) -> None:
    org = new_org(server)
    second = org.client.post("/v2/user/login", json={"id": org.user_id, "password": org.password})
    tokens = [org.token, second.json()["token"]]
    for token in tokens:
        assert org.client.post("/v3/contact/get", json={"token": token}).status_code == 200
    done = subprocess.run(
        [CONTACTHUB, "user", "revoke-tokens", org.user_id, "--database-url", server.database_url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Revoked 2 tokens of {org.user_id}."
    # The shared server rechecks tokens every 5 s (CONTACTHUB_TOKEN_RECHECK_SECONDS).
    deadline = time.monotonic() + 5 + 10
    while time.monotonic() < deadline:
        statuses = {
            org.client.post("/v3/contact/get", json={"token": token}).status_code
            for token in tokens
        }
        if statuses == {404}:
            break
        time.sleep(0.1)
    assert statuses == {404}
    unknown = subprocess.run(
        [CONTACTHUB, "user", "revoke-tokens", "999_1", "--database-url", server.database_url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [
        "error: no user '999_1' (give an existing user's <extension>_<appid>)"
    ]
