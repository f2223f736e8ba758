"""The servers under load, each started fresh for every measurement.

- contacthub on SQLite: `contacthub serve` on a new SQLite file;
- contacthub on PostgreSQL: the same on a new database of the machine's PostgreSQL;
- Datasette, the nearest installable peer: its row-insert API
  (`POST /<db>/<table>/-/insert`, up to 100 rows, Bearer token), from its own
  virtual environment under bench/.peers/ (`make bench-peers` makes it), on a
  new SQLite file holding a `contacts` table with a unique index on
  (org_id, phone_no), as contacthub's is on (app_id, phone_no).

Each `target()` yields what the load needs: the URL to post to, the body shape
and status the wrk script expects, a token, the server's process id (its
memory is sampled), and a way to ask how many contacts were stored.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from _harness import (
    HOST,
    REQUEST_TIMEOUT_SECONDS,
    create_app,
    default_environment,
    free_port,
    log_in,
    postgres_database,
    running_process,
    running_server,
    stored_count,
)

PEERS = Path(__file__).with_name(".peers")
DATASETTE = PEERS / "datasette" / "bin" / "datasette"
PEER_SCHEMA = """
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    phone_no TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email_id TEXT,
    company TEXT,
    job_title TEXT
);
CREATE UNIQUE INDEX uq_contacts_org_id_phone_no ON contacts (org_id, phone_no);
"""


@dataclass(frozen=True)
class Target:
    """A fresh server, ready to take contacts."""

    url: str
    shape: str
    ok_status: int
    token: str
    pid: int
    stored: Callable[[], int]


class ContactHub:
    def __init__(self, backend: str, postgres_url: str) -> None:
        if backend not in ("sqlite", "postgres"):
            raise ValueError(f"unknown backend {backend!r}")
        self.backend = backend
        self.name = f"contacthub-{backend}"
        self._postgres_url = postgres_url

    def _database(self, directory: Path) -> AbstractContextManager[str]:
        if self.backend == "sqlite":
            return nullcontext(f"sqlite:///{directory / 'contacthub.db'}")
        return postgres_database(self._postgres_url)

    @contextmanager
    def target(self, directory: Path) -> Iterator[Target]:
        """A new database, the server on it, a new app and a logged-in user of it."""
        with (
            self._database(directory) as database_url,
            running_server(database_url, directory / "server.log") as server,
            httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client,
        ):
            token = log_in(client, create_app(database_url))
            yield Target(
                url=f"{server.base_url}/v3/contact/add",
                shape="contacthub",
                ok_status=200,
                token=token,
                pid=server.process.pid,
                stored=lambda: stored_count(client, token),
            )


class Datasette:
    name = "datasette"

    def __init__(self) -> None:
        self._secret = secrets.token_hex(16)
        self._token: str | None = None

    @staticmethod
    def installed() -> bool:
        return DATASETTE.exists()

    @staticmethod
    def version() -> str:
        return _output([str(DATASETTE), "--version"]).strip().rsplit(" ", 1)[-1]

    def _root_token(self) -> str:
        """An API token of the actor `root`, signed with this run's secret."""
        if self._token is None:
            command = [str(DATASETTE), "create-token", "root", "--secret", self._secret]
            self._token = _output(command).strip()
        return self._token

    @contextmanager
    def target(self, directory: Path) -> Iterator[Target]:
        database = directory / "peer.db"
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(PEER_SCHEMA)
        connection.close()
        # Datasette denies writes by default; the configuration lets root insert here.
        config = directory / "datasette.json"
        config.write_text(
            json.dumps(
                {
                    "databases": {
                        "peer": {
                            "tables": {"contacts": {"permissions": {"insert-row": {"id": "root"}}}}
                        }
                    }
                }
            )
        )
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        command = [
            str(DATASETTE), "serve", str(database), "--host", HOST, "--port", str(port),
            "--secret", self._secret, "--config", str(config),
        ]  # fmt: skip
        token = self._root_token()
        with running_process(command, directory / "server.log", f"{base_url}/-/versions.json") as p:
            yield Target(
                url=f"{base_url}/peer/contacts/-/insert",
                shape="datasette",
                ok_status=201,
                token=token,
                pid=p.pid,
                stored=lambda: _count_rows(database),
            )


def _count_rows(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM contacts").fetchone()
    connection.close()
    return int(count)


def _output(command: list[str]) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, env=default_environment()
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout
