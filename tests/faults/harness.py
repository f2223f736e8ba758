"""What the fault tests share: killing a server outright, reading everything back, the figures."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.conftest import Server

# The long variants (more faults, longer loads, a real PostgreSQL restart): `make soak`.
SOAK = os.environ.get("CONTACTHUB_SOAK", "") not in {"", "0"}

# No request may take longer than this, whatever the fault...
REQUEST_BOUND_SECONDS = 10.0
# ...and clients wait well past it, so that a hang is seen as a hang, not as a timeout.
CLIENT_TIMEOUT_SECONDS = 60.0

LOCKED = "database is locked"


def seeded_random(name: str) -> tuple[random.Random, int]:
    """A random source whose seed is printed, so a failing fault schedule can be replayed.

    CONTACTHUB_FAULT_SEED fixes the seed (the server's timing still varies).
    """
    seed = int(os.environ.get("CONTACTHUB_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    return random.Random(f"{name}-{seed}"), seed


class Numbers:
    """Unique Indian mobile numbers for every client thread of one test."""

    def __init__(self, first: int = 9_500_000_000) -> None:
        self._next = first
        self._lock = threading.Lock()

    def take(self, count: int) -> list[str]:
        with self._lock:
            start = self._next
            self._next += count
        return [f"91{number}" for number in range(start, start + count)]


def kill(server: Server) -> None:
    """SIGKILL the server and every process it started: no shutdown code runs, as in a crash.

    The supervisor goes first, so that it cannot replace the workers killed after it.
    """
    assert server.process is not None
    try:
        family = [psutil.Process(server.process.pid)]
        family += family[0].children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"processes survived SIGKILL: {alive}"


def stop(server: Server) -> None:
    """Stop the server politely; kill whatever is left of it (also after a failed test)."""
    if server.process is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        children = psutil.Process(server.process.pid).children(recursive=True)
        server.stop()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def worker_cpu_seconds(server: Server) -> dict[int, float]:
    """CPU time used so far by each worker process of a `--workers N` server, by pid."""
    assert server.process is not None
    children = psutil.Process(server.process.pid).children()
    used = {}
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            if "spawn_main" in " ".join(child.cmdline()):
                times = child.cpu_times()
                used[child.pid] = times.user + times.system
    return used


def log_tail(server: Server, lines: int = 40) -> str:
    """The end of the server's log without its successful requests, for assertion messages."""
    if server.log_path is None or not Path(server.log_path).exists():
        return "(no log)"
    text = Path(server.log_path).read_text(encoding="utf-8", errors="replace")
    kept = [line for line in text.splitlines() if not re.search(r'HTTP/1.1" 2\d\d ', line)]
    return "\n".join(kept[-lines:])


def read_all(url: str, token: str) -> dict[str, dict[str, Any]]:
    """Every stored contact of the token's organization, by contact_id, paging in creation order."""
    stored: dict[str, dict[str, Any]] = {}
    body: dict[str, Any] = {"token": token, "limit": 100}
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_SECONDS) as client:
        while True:
            response = client.post("/v3/contact/get", json=body)
            assert response.status_code == 200, response.text
            page = response.json()
            for item in page["contacts"]:
                assert item["contact_id"] not in stored, f"paging repeated {item}"
                stored[item["contact_id"]] = item
            if page["page_state"] is None:
                assert page["count"] == len(stored), (page["count"], len(stored))
                return stored
            body["page_state"] = page["page_state"]


def unavailable_problem(response: httpx.Response) -> str | None:
    """What is wrong with a 503, if anything: it must be the envelope, with a Retry-After."""
    try:
        body = response.json()
    except ValueError:
        return f"503 without a JSON body: {response.text[:200]!r}"
    if not (
        isinstance(body, dict) and body.get("code") == 503 and isinstance(body.get("msg"), str)
    ):
        return f"503 without the {{code, msg}} envelope: {response.text[:200]!r}"
    if "retry-after" not in response.headers:
        return "503 without a Retry-After header"
    return None


def figure_line(kind: str, **figures: object) -> str:
    """Print the test's figures as one line, `FAULT <kind> name=value ...`, for the docs."""
    line = " ".join([f"FAULT {kind}", *(f"{name}={value}" for name, value in figures.items())])
    print(f"\n{line}")
    return line


class Deadline:
    """The end of a wait that must end: loops check it instead of waiting forever."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())


class ClientThreads:
    """`clients` threads, each running `self._client(slot)` until stop() is called: a load.

    stop() waits at most `stop_within` seconds for them, and fails the test if
    one is still running (a request that hangs).
    """

    def __init__(self, clients: int, stop_within: float) -> None:
        self._stop = threading.Event()
        self._stop_within = stop_within
        self._threads = [
            threading.Thread(target=self._client, args=(slot,), name=f"client-{slot}", daemon=True)
            for slot in range(clients)
        ]

    def _client(self, slot: int) -> None:
        raise NotImplementedError

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        join_all(self._threads, self._stop_within)


def join_all(threads: list[threading.Thread], seconds: float) -> None:
    deadline = Deadline(seconds)
    for thread in threads:
        thread.join(timeout=deadline.remaining())
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"client threads still running (a request hangs?): {stuck}"
