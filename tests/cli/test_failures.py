"""Every command, given a bad invocation, fails in one line: `error: ...`, with the right status.

Status 2 is bad usage or input, 1 a failed operation (a server unreachable or
refusing, database trouble). Each case runs the real `contacthub` as a
subprocess, several at a time; the remote commands run against a real server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import (
    CONTACTHUB,
    POSTGRES_ENV,
    SHARED_SERVER_ENV,
    Org,
    Server,
    free_port,
    new_org,
)

A_REPR = re.compile(r"\b[A-Z]\w*(Error|Exception|Exit)\(|\[Errno|Traceback")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without contacthub's variables (but the tests'), plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CONTACTHUB_") or name.startswith("CONTACTHUB_TEST_")
    }
    return {**env, **extra}


def run(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONTACTHUB, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,  # not a terminal: nothing is asked
        env=clean_env(**(env or {})),
        cwd=cwd,
    )


@dataclass(frozen=True)
class Bad:
    """A bad invocation, the status it must end with, and what its line must name."""

    args: tuple[str, ...]
    status: int
    names: str
    env: Mapping[str, str] = field(default_factory=dict)


def what_is_wrong(case: Bad, done: subprocess.CompletedProcess[str]) -> list[str]:
    problems = []
    if done.returncode != case.status:
        problems.append(f"exit {done.returncode}, not {case.status}")
    lines = done.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("error: "):
        problems.append("stderr is not one line starting 'error: '")
    if A_REPR.search(done.stderr + done.stdout):
        problems.append("a traceback or a Python repr")
    if case.names not in done.stderr:
        problems.append(f"does not name {case.names!r}")
    return [f"{' '.join(case.args)} {dict(case.env)}: {p}\n  {done.stderr!r}" for p in problems]


def check_all(cases: list[Bad], cwd: Path) -> None:
    def attempt(case: Bad) -> list[str]:
        return what_is_wrong(case, run(*case.args, env=case.env, cwd=cwd))

    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [problem for found in pool.map(attempt, cases) for problem in found]
    assert not problems, "\n".join(problems)


def missing_postgres_database() -> str:
    """A PostgreSQL database that does not exist, on the test server (or the brief's default)."""
    admin = os.environ.get(POSTGRES_ENV) or "postgresql://postgres@127.0.0.1:5432/test"
    return admin.rpartition("/")[0] + "/contacthub_no_such_database"


def test_the_database_commands_fail_in_one_line(tmp_path: Path) -> None:
    good_db = f"sqlite:///{tmp_path / 'good.db'}"
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database\n" * 1000)
    port = str(free_port())
    user = ("--user-name", "Asha Rao", "--phone", "+91 92000 11111")
    commands: list[tuple[str, ...]] = [
        ("db", "upgrade"),
        ("app", "create", "--name", "Acme"),
        ("init", "--name", "Acme", *user, "--password", "a long password"),
        ("serve", "--port", port),
    ]
    missing_folder = tmp_path / "no such folder" / "ch.db"
    cases = []
    for command in commands:
        cases += [
            Bad((*command, "--database-url", missing_postgres_database()), 1, "no_such_database"),
            Bad((*command, "--database-url", f"sqlite:///{missing_folder}"), 1, "no such folder"),
            Bad((*command, "--database-url", "mysql://me@db/contacts"), 2, "mysql://me@db"),
            Bad(command, 2, "CONTACTHUB_DATABASE_URL",
                env={"CONTACTHUB_DATABASE_URL": "mysql://me:hunter22@db/x"}),
            Bad((*command, "--database-url", good_db), 2, "CONTACTHUB_MAX_BODY_BYTES",
                env={"CONTACTHUB_MAX_BODY_BYTES": "abc"}),
            Bad((*command, "--bogus"), 2, "--bogus"),
        ]  # fmt: skip
    with_db = ("--database-url", good_db)
    cases += [
        Bad(("db", "upgrade", "--database-url", f"sqlite:///{not_a_database}"), 1,
            "not a database"),
        Bad(("serve", "--no-migrate", "--port", port, "--database-url",
             missing_postgres_database()), 1, "no_such_database"),
        Bad(("serve", "--port", "0", *with_db), 2, "--port"),
        Bad(("serve", "--port", "http", *with_db), 2, "--port"),
        Bad(("app", "create", "--name", "Acme", "--default-region", "XX", *with_db), 2, "XX"),
        Bad(("app", "create", "--name", " ", *with_db), 2, "name"),
        Bad(("app", "create", *with_db), 2, "--name"),
        Bad(("init", "--name", "Acme", *user, *with_db), 2, "--password"),
        Bad(("init", "--name", "Acme", "--user-name", "A", "--phone", "12", "--password",
             "a long password", *with_db), 2, "--phone"),
        Bad(("init", "--name", "Acme", *user, "--password", "short", *with_db), 2, "--password"),
        Bad(("init", "--name", "Acme", *user, "--password", "a long password", "--url",
             "ftp://example.org", *with_db), 2, "ftp://example.org"),
        Bad(("no-such-command",), 2, "no-such-command"),
        Bad(("db", "downgrade"), 2, "downgrade"),
    ]  # fmt: skip
    check_all(cases, tmp_path)
    # A password in a URL is never shown.
    shown = run("db", "upgrade", env={"CONTACTHUB_DATABASE_URL": "mysql://me:hunter22@db/x"})
    assert "hunter22" not in shown.stderr
    # Nothing was half-made: the refused init and app create left the good database empty.
    assert run("init", "--name", "Acme", *user, "--password", "a long password", *with_db,
               "--json").returncode == 0  # fmt: skip


def write_contacts(folder: Path) -> Callable[[], str]:
    """A new small CSV file on each call (a failed import may leave a checkpoint beside it)."""
    made = iter(range(1_000))

    def new_file() -> str:
        path = folder / f"contacts-{next(made)}.csv"
        path.write_text("First Name,Last Name,Mobile\nAsha,Rao,919300000001\n", encoding="utf-8")
        return str(path)

    return new_file


@pytest.fixture(scope="module")
def sqlite_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """An organization on a server of this module's own: how the remote commands fail does not
    depend on the server's database, so their table runs once, not once per backend."""
    folder = tmp_path_factory.mktemp("failures")
    server = Server(f"sqlite:///{folder / 'contacthub.db'}", env=SHARED_SERVER_ENV)
    server.start(folder / "server.log")
    made = new_org(server)
    yield made
    made.client.close()
    server.stop()


def test_the_remote_commands_fail_in_one_line(sqlite_org: Org, tmp_path: Path) -> None:
    org = sqlite_org
    server, closed = org.server.url, f"http://127.0.0.1:{free_port()}"
    csv_file = write_contacts(tmp_path)
    new_user = ("--appid", str(org.appid), "--extension", "202", "--name", "Meena",
                "--phone", "+91 92000 22222", "--password", "a long password")  # fmt: skip
    wrong_login = ("--user-id", org.user_id, "--password", "not the password")
    commands: dict[str, Callable[[], tuple[str, ...]]] = {
        "user add": lambda: ("user", "add", *new_user, "--secret", org.secret),
        "export": lambda: ("export", "--token", org.token),
        "import": lambda: ("import", csv_file(), "--token", org.token),
        "login": lambda: ("login", "--user-id", org.user_id, "--password", org.password),
    }
    cases = []
    for make in commands.values():
        cases += [
            Bad((*make(), "--url", "ftp://127.0.0.1:1"), 2, "ftp://127.0.0.1:1"),
            Bad((*make(), "--url", "127.0.0.1:8000"), 2, "127.0.0.1:8000"),
            Bad(make(), 2, "CONTACTHUB_URL", env={"CONTACTHUB_URL": "ftp://127.0.0.1:1"}),
            Bad(make(), 2, "--url"),
            Bad((*make(), "--url", closed), 1, closed),
            Bad(make(), 1, closed, env={"CONTACTHUB_URL": closed}),
            Bad((*make(), "--url", server, "--bogus"), 2, "--bogus"),
        ]
    at = ("--url", server)
    cases += [
        # user add
        Bad(("user", "add", *at, *new_user, "--secret", "wrong"), 1, "--secret"),
        Bad(("user", "add", *at, *new_user[:-1], "short", "--secret", org.secret), 2, "--password"),
        Bad(("user", "add", *at, "--appid", str(org.appid), "--secret", org.secret,
             "--extension", "0", "--name", "M", "--phone", "12", "--password", "long enough"),
            2, "--phone"),
        Bad(("user", "add", *at, *new_user[:-2], "--secret", org.secret), 2, "--password"),
        Bad(("user", "add", *at, *new_user[:2], "--extension", "101", *new_user[4:],
             "--secret", org.secret), 1, "--extension"),
        Bad(("user", "add", *at, *new_user[2:], "--secret", org.secret), 2, "--appid"),
        Bad(("user", "add", *at, "--appid", "seven", *new_user[2:], "--secret", org.secret),
            2, "--appid"),
        # login
        Bad(("login", *at, *wrong_login), 1, "password"),
        Bad(("login", *at, "--user-id", org.user_id), 2, "--password"),
        # export
        Bad(("export", *at, *wrong_login), 1, "password"),
        Bad(("export", *at, "--token", "not a token"), 1, "CONTACTHUB_TOKEN"),
        Bad(("export", *at), 1, "token", env={"CONTACTHUB_TOKEN": "not a token"}),
        Bad(("export", *at), 2, "--token"),
        Bad(("export", *at, "--user-id", org.user_id), 2, "--password"),
        Bad(("export", *at, "--token", org.token, "--user-id", org.user_id), 2, "--user-id"),
        Bad(("export", *at, "--token", org.token, "-o", str(tmp_path / "no" / "x.csv")),
            2, str(tmp_path / "no" / "x.csv")),
        Bad(("export", *at, "--token", org.token, "--format", "xml"), 2, "--format"),
        # import
        Bad(("import", csv_file(), *at, *wrong_login), 1, "password"),
        Bad(("import", csv_file(), *at, "--token", "not a token"), 1, "token"),
        Bad(("import", csv_file(), *at), 2, "--token"),
        Bad(("import", str(tmp_path), *at, "--token", org.token), 2, "is a directory"),
        Bad(("import", str(tmp_path / "none.csv"), *at, "--token", org.token), 2, "none.csv"),
        Bad(("import", *at, "--token", org.token), 2, "FILE"),
        Bad(("import", csv_file(), *at, "--token", org.token, "--map", "oops"), 2, "--map"),
        Bad(("import", csv_file(), *at, "--token", org.token, "--workers", "0"), 2, "--workers"),
        Bad(("import", csv_file(), *at, "--token", org.token, "--default-region", "XX"),
            2, "--default-region"),
        Bad(("import", csv_file(), *at, "--token", org.token, "--on-duplicate", "merge"),
            2, "--on-duplicate"),
    ]  # fmt: skip
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("First Name,Last Name,Mobile\nZoë,Rao,919300000001\n".encode("latin-1"))
    headless = tmp_path / "headless.csv"
    headless.write_text("Given,Family,Cell\nAsha,Rao,919300000001\n", encoding="utf-8")
    cases += [
        Bad(("import", str(latin1), *at, "--token", org.token), 2, "UTF-8"),
        Bad(("import", str(headless), *at, "--token", org.token), 2, "first_name"),
    ]
    check_all(cases, tmp_path)
    assert org.get().json()["count"] == 0


def test_a_refused_token_leaves_nothing_to_resume(sqlite_org: Org, tmp_path: Path) -> None:
    source = write_contacts(tmp_path)()
    done = run("import", source, "--url", sqlite_org.server.url, "--token", "not a token")
    assert done.returncode == 1
    assert "--resume" not in done.stderr
    assert not Path(source + ".checkpoint").exists()


# Root reads any file: as root, the command runs as nobody (setpriv is util-linux's).
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, needs setpriv to run the command as nobody",
)
def test_an_unreadable_import_file_fails_in_one_line(sqlite_org: Org) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # nobody may enter it
        locked = Path(write_contacts(Path(folder))())
        locked.chmod(0)
        args = ("import", str(locked), "--url", sqlite_org.server.url, "--token", sqlite_org.token)
        done = subprocess.run(
            [*(AS_NOBODY if os.geteuid() == 0 else []), CONTACTHUB, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
            cwd=folder,
        )
    assert not what_is_wrong(Bad(args, 2, "not readable"), done)


def test_an_import_cut_off_by_the_server_says_how_to_resume(
    sqlite_org: Org, tmp_path: Path
) -> None:
    """A server gone mid-import (here: never there) leaves a checkpoint, and the line says so."""
    source = write_contacts(tmp_path)()
    closed = f"http://127.0.0.1:{free_port()}"
    done = run("import", source, "--url", closed, "--token", sqlite_org.token)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "--resume" in done.stderr
    assert Path(source + ".checkpoint").exists()
