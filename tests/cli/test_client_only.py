"""The remote commands need nothing of the server: not its modules, not its libraries.

As tests/client/test_no_server_imports.py does for the client library: importing
the command line loads none of them, and `user add`, `login`, `import` and
`export` work against a real server with them made impossible to import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_failures import clean_env
from tests.conftest import Org

SERVER_LIBRARIES = ("uvicorn", "sqlalchemy", "fastapi", "starlette", "alembic", "psycopg")
SERVER_PACKAGES = ("contacthub.storage", "contacthub.api", "contacthub.services",
                   "contacthub.web", "contacthub.config")  # fmt: skip

# Runs the command line with the server's libraries and packages refused at import.
WITHOUT_THE_SERVER = f"""
import sys
from importlib.abc import MetaPathFinder

REFUSED = {SERVER_LIBRARIES + SERVER_PACKAGES!r}

class Refuse(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == refused or name.startswith(refused + ".") for refused in REFUSED):
            raise ImportError(f"{{name}} is not installed here")
        return None

sys.meta_path.insert(0, Refuse())
from contacthub.cli.main import main
sys.argv[0] = "contacthub"
main()
"""


def test_importing_the_command_line_loads_nothing_of_the_server() -> None:
    code = "import json, sys\nimport contacthub.cli.main\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(done.stdout))
    assert "contacthub.cli.main" in modules
    for name in SERVER_LIBRARIES + SERVER_PACKAGES:
        assert not any(m == name or m.startswith(name + ".") for m in modules), name


def without_the_server(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_SERVER, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        cwd=cwd,
    )


def test_the_remote_commands_work_without_the_server(org: Org, tmp_path: Path) -> None:
    at = ("--url", org.server.url)
    added = without_the_server(
        "user", "add", *at, "--appid", str(org.appid), "--secret", org.secret, "--extension",
        "404", "--name", "Meena", "--phone", "+91 92000 44444", "--password", "a long password",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    user_id = json.loads(added.stdout)["agent_id"]

    logged_in = without_the_server(
        "login", *at, "--user-id", user_id, "--password", "a long password", cwd=tmp_path
    )
    assert logged_in.returncode == 0, logged_in.stderr
    token = logged_in.stdout.strip()

    source = tmp_path / "c.csv"
    source.write_text("First Name,Last Name,Mobile\nAsha,Rao,919300000001\n", encoding="utf-8")
    imported = without_the_server("import", str(source), *at, "--token", token, "--json",
                                  cwd=tmp_path)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["added"] == 1

    exported = without_the_server("export", *at, "--token", token, "--format", "jsonl",
                                  cwd=tmp_path)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["phone_no"] == "919300000001"

    # A server command says, in one line, what it misses.
    served = without_the_server("db", "upgrade", cwd=tmp_path)
    assert served.returncode == 1
    assert served.stderr.startswith("error: ")
    assert served.stderr.count("\n") == 1
    assert "needs the server's modules" in served.stderr
