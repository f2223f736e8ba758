"""The command line, exactly as the contract spells it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx

from tests.conftest import CONTACTHUB, Server, run_cli


def test_app_create_json_prints_exactly_one_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = run_cli("app", "create", "--name", "Acme", "--json", database_url=url)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert set(created) == {"appid", "secret", "name"}
    assert 1_000_000 <= created["appid"] <= 9_999_999
    assert len(created["secret"]) >= 32
    assert created["name"] == "Acme"


def test_app_create_without_json_shows_the_secret_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = run_cli("app", "create", "--name", "Acme", database_url=url)
    assert done.returncode == 0, done.stderr
    assert "appid" in done.stdout
    assert "secret" in done.stdout


def test_default_region_any_case_and_unknown_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ("app", "create", "--name", "Acme", "--json", "--default-region")
    assert run_cli(*args, "in", database_url=url).returncode == 0
    refused = run_cli(*args, "XX", database_url=url)
    assert refused.returncode != 0
    assert "XX" in refused.stderr
    assert refused.stdout == ""


def test_app_create_refuses_an_empty_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    refused = run_cli("app", "create", "--name", "  ", "--json", database_url=url)
    assert refused.returncode != 0
    assert "name" in refused.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for _ in range(2):
        done = run_cli("db", "upgrade", database_url=url)
        assert done.returncode == 0, done.stderr
        assert "0005_contact_totals" in done.stdout


def test_the_flag_beats_the_environment_which_beats_the_default(tmp_path: Path) -> None:
    flag_db, env_db = tmp_path / "flag.db", tmp_path / "env.db"
    env = {**os.environ, "CONTACTHUB_DATABASE_URL": f"sqlite:///{env_db}"}
    base = [CONTACTHUB, "db", "upgrade"]
    subprocess.run(
        [*base, "--database-url", f"sqlite:///{flag_db}"], env=env, check=True, cwd=tmp_path
    )
    assert flag_db.exists()
    assert not env_db.exists()
    subprocess.run(base, env=env, check=True, cwd=tmp_path)
    assert env_db.exists()
    env.pop("CONTACTHUB_DATABASE_URL")
    subprocess.run(base, env=env, check=True, cwd=tmp_path)
    assert (tmp_path / "contacthub.db").exists()


def test_serve_migrates_a_fresh_database(tmp_path: Path) -> None:
    fresh = Server(f"sqlite:///{tmp_path / 'fresh.db'}").start(tmp_path / "fresh.log")
    try:
        assert httpx.get(f"{fresh.url}/readyz").status_code == 200
        app = fresh.create_app()
        response = httpx.post(
            f"{fresh.url}/v2/user/login",
            json={"id": f"101_{app['appid']}", "password": "whatever1"},
        )
        assert response.status_code == 404
    finally:
        fresh.stop()


def test_a_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("db", "upgrade", database_url="mysql://nobody@localhost/x")
    assert done.returncode != 0
    assert "unsupported database URL" in done.stderr
