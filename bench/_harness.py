"""What the benchmarks share: a `contacthub serve` process, an app, a logged-in user, a database.

The server is the `contacthub` next to the running Python (run the scripts
with the project's `.venv/bin/python`), started as a user would start it:
`contacthub serve` on a free loopback port with no flags but the address and
`--database-url`, and with no CONTACTHUB_* variables in its environment. An
app is made with `contacthub app create --json`, a user with
`POST /v2/user/add`, and a token with `POST /v2/user/login`. PostgreSQL
databases are fresh ones, `contacthub_bench_<random>`, dropped afterwards.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

CONTACTHUB = Path(sys.executable).with_name("contacthub")
HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench password"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
REQUEST_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def default_environment() -> dict[str, str]:
    """This process's environment without CONTACTHUB_* settings: the server runs on defaults."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CONTACTHUB_")}


def expect_ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def nearest_rank(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence; NaN when it is empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# --- processes -------------------------------------------------------------------------


@contextmanager
def running_process(
    command: Sequence[str], log_path: Path, ready_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until `ready_url` answers 200, and stop it on leaving."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), stdout=log, stderr=subprocess.STDOUT, env=default_environment()
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} did not answer in time:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    database_url: str
    log_path: Path


@contextmanager
def running_server(database_url: str, log_path: Path) -> Iterator[Server]:
    """`contacthub serve` on a free port, on its defaults; it migrates the database itself."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    command = [
        str(CONTACTHUB), "serve", "--host", HOST, "--port", str(port),
        "--database-url", database_url,
    ]  # fmt: skip
    with running_process(command, log_path, f"{base_url}/healthz") as process:
        yield Server(process, base_url, database_url, log_path)


def run_cli(*args: str, database_url: str) -> str:
    """Run a `contacthub` command on the database; return its standard output."""
    done = subprocess.run(
        [str(CONTACTHUB), *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=default_environment(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"contacthub {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def migrate(database_url: str) -> None:
    run_cli("db", "upgrade", database_url=database_url)


# --- an app and a user -----------------------------------------------------------------


@dataclass(frozen=True)
class App:
    appid: int
    secret: str


def create_app(database_url: str, name: str = "bench") -> App:
    """A new app (organization), made with `contacthub app create --json`."""
    created = json.loads(
        run_cli("app", "create", "--name", name, "--json", database_url=database_url)
    )
    return App(int(created["appid"]), str(created["secret"]))


def log_in(client: httpx.Client, app: App) -> str:
    """Add a user to the app through the API and log in; return the token."""
    added = expect_ok(
        client.post(
            "/v2/user/add",
            json={
                "appid": app.appid,
                "secret": app.secret,
                "extension": 101,
                "name": "Bench User",
                "phone_number": "+91 92000 11111",
                "password": PASSWORD,
            },
        )
    )
    login = expect_ok(
        client.post("/v2/user/login", json={"id": added["agent"]["agent_id"], "password": PASSWORD})
    )
    return str(login["token"])


def stored_count(client: httpx.Client, token: str) -> int:
    """The organization's number of contacts, as `POST /v3/contact/get` tells it."""
    page = expect_ok(client.post("/v3/contact/get", json={"token": token, "limit": 1}))
    return int(page["count"])


# --- PostgreSQL ------------------------------------------------------------------------


def database_url_for(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def postgres_database(admin_url: str, keep: bool = False) -> Iterator[str]:
    """A fresh database `contacthub_bench_<random>`; dropped on leaving unless `keep`."""
    name = f"contacthub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url_for(admin_url, name)
    finally:
        if keep:
            print(f"database     {name} kept (--keep): {database_url_for(admin_url, name)}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


# --- the machine -----------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews the figures."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
