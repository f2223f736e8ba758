"""Throughput and latency of `POST /v3/contact/add` with full batches, on a fresh server.

What it measures: how many contacts per second one `contacthub serve` process
(default settings, a new SQLite database) stores when N concurrent clients
each send batches of unique, valid phone numbers as fast as the server
answers, for a fixed time. Every batch is new, so every request should be a
`200`; any other answer, or a transport error, is counted and makes the
script exit non-zero.

What it does:

1. creates a temporary directory and starts `contacthub serve` (the one next
   to this Python interpreter) on a free loopback port, with the SQLite
   database `bench.db` in that directory and no CONTACTHUB_* variables;
2. creates an app with `contacthub app create --json`, adds a user with
   `POST /v2/user/add` and logs in with `POST /v2/user/login`;
3. runs `--clients` threads, each with its own `httpx.Client`, sending
   `--batch` contacts per request until `--seconds` have passed (a request
   in flight at the deadline is allowed to finish);
4. prints contacts/s, requests/s, p50/p99 latency, errors by status, and the
   number of contacts the server reports in `POST /v3/contact/get`'s
   `count`, which must equal the number of contacts acknowledged;
5. stops the server and removes the directory, also on error or Ctrl-C.

Phone numbers are Indian mobiles, 919200000000 upwards, taken from one
counter shared by all clients, so no two contacts ever share a number.

Run it from the repository root:

    .venv/bin/python bench/add_batches.py
    .venv/bin/python bench/add_batches.py --clients 16 --seconds 30 --batch 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CONTACTHUB = Path(sys.executable).with_name("contacthub")
HOST = "127.0.0.1"
MAX_BATCH = 100
FIRST_NUMBER = 9_200_000_000  # national part of +91 92000 00000, a valid Indian mobile
PASSWORD = "bench password"
STARTUP_TIMEOUT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 30.0


class NumberSource:
    """Unique phone numbers for every client thread, handed out a batch at a time."""

    def __init__(self, first: int = FIRST_NUMBER) -> None:
        self._next = first
        self._lock = threading.Lock()

    def take(self, count: int) -> range:
        with self._lock:
            start = self._next
            self._next += count
        return range(start, start + count)


@dataclass
class ClientResult:
    """What one client thread saw; merged after every thread has finished."""

    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    contacts_acknowledged: int = 0


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    database_url: str
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def default_environment() -> dict[str, str]:
    """This process's environment without CONTACTHUB_* settings: the server runs on defaults."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CONTACTHUB_")}


def start_server(directory: Path) -> Server:
    port = free_port()
    database_url = f"sqlite:///{directory / 'bench.db'}"
    log_path = directory / "server.log"
    command = [
        str(CONTACTHUB), "serve", "--host", HOST, "--port", str(port),
        "--database-url", database_url,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=default_environment()
        )
    server = Server(process, f"http://{HOST}:{port}", database_url, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server did not answer /healthz in time:\n{log_path.read_text()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def log_in(server: Server) -> str:
    """Create an app and a user; return the user's login token."""
    command = [
        str(CONTACTHUB), "app", "create", "--name", "bench", "--json",
        "--database-url", server.database_url,
    ]  # fmt: skip
    created = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=default_environment(),
    )
    if created.returncode != 0:
        raise RuntimeError(f"contacthub app create failed:\n{created.stderr}")
    app = json.loads(created.stdout)
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        added = expect_ok(
            client.post(
                "/v2/user/add",
                json={
                    "appid": app["appid"],
                    "secret": app["secret"],
                    "extension": 101,
                    "name": "Bench User",
                    "phone_number": "919200000000",
                    "password": PASSWORD,
                },
            )
        )
        login = expect_ok(
            client.post(
                "/v2/user/login", json={"id": added["agent"]["agent_id"], "password": PASSWORD}
            )
        )
    return str(login["token"])


def expect_ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def batch_body(token: str, numbers: range) -> dict[str, Any]:
    return {
        "token": token,
        "contacts": [
            {
                "phone_no": f"91{number}",
                "first_name": "Bench",
                "last_name": f"Contact {number}",
                "email_id": f"c{number}@example.com",
                "company": "Acme Corp",
                "job_title": "Tester",
            }
            for number in numbers
        ],
    }


def run_client(
    base_url: str,
    token: str,
    numbers: NumberSource,
    batch: int,
    deadline: float,
    result: ClientResult,
) -> None:
    """Send batches until the deadline; record every latency and every failure."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        while time.monotonic() < deadline:
            body = batch_body(token, numbers.take(batch))
            started = time.perf_counter()
            result.requests += 1
            try:
                response = client.post("/v3/contact/add", json=body)
            except httpx.TransportError as error:
                result.errors[type(error).__name__] += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code == 200:
                result.contacts_acknowledged += len(response.json()["contacts"])
            else:
                result.errors[str(response.status_code)] += 1


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list; NaN when it is empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def server_count(server: Server, token: str) -> int:
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        page = expect_ok(client.post("/v3/contact/get", json={"token": token, "limit": 1}))
    return int(page["count"])


def benchmark(server: Server, clients: int, seconds: float, batch: int) -> bool:
    """Drive the server, print the figures, and say whether every request succeeded."""
    token = log_in(server)
    numbers = NumberSource()
    results = [ClientResult() for _ in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(server.base_url, token, numbers, batch, deadline, result),
            name=f"client-{index}",
        )
        for index, result in enumerate(results)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    latencies = sorted(ms for result in results for ms in result.latencies_ms)
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors)
    acknowledged = sum(result.contacts_acknowledged for result in results)
    requests = sum(result.requests for result in results)
    stored = server_count(server, token)

    print(f"clients {clients}, batch {batch}, ran {elapsed:.1f} s against {server.base_url}")
    print(f"contacts/s   {acknowledged / elapsed:10.1f}  ({acknowledged} acknowledged)")
    print(f"requests/s   {requests / elapsed:10.1f}  ({requests} sent)")
    print(f"latency p50  {percentile(latencies, 0.50):10.1f} ms")
    print(f"latency p99  {percentile(latencies, 0.99):10.1f} ms")
    if errors:
        listed = ", ".join(f"{status}: {count}" for status, count in sorted(errors.items()))
        print(f"errors       {listed}")
    else:
        print("errors       none")
    verdict = "matches" if stored == acknowledged else "DOES NOT MATCH"
    print(f"server count {stored:10d}  ({verdict} the {acknowledged} acknowledged)")
    return not errors and stored == acknowledged


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def batch_size(text: str) -> int:
    value = positive_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BATCH}, not {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure POST /v3/contact/add throughput on a fresh SQLite server."
    )
    parser.add_argument(
        "--clients", type=positive_int, default=8, help="concurrent clients (default 8)"
    )
    parser.add_argument(
        "--seconds", type=positive_float, default=10.0, help="how long to send (default 10)"
    )
    parser.add_argument(
        "--batch", type=batch_size, default=100, help="contacts per request, 1-100 (default 100)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not CONTACTHUB.exists():
        print(f"error: {CONTACTHUB} not found; run this with the project's .venv/bin/python")
        return 2
    with tempfile.TemporaryDirectory(prefix="contacthub-bench-") as directory:
        server = start_server(Path(directory))
        try:
            succeeded = benchmark(server, args.clients, args.seconds, args.batch)
        finally:
            stop_server(server)
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
