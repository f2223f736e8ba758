"""Load from wrk, and what it costs the server: its memory and CPU, and wrk's own CPU.

`run_wrk` runs wrk with bench/add_contacts.lua for a whole number of seconds
and returns its figures: requests, successful adds, other answers by status,
socket errors (connect, read, write, timeout), latency percentiles, and the
CPU time wrk itself used (from the kernel's accounting of the child, wait4),
which competes with the server for the machine's cores.

`ProcessTreeSampler` samples the resident memory (RSS) of a process and all of
its descendants, summed, every `interval` seconds with psutil, keeping the
peak and the series, and their CPU time over the sampled span.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psutil
from _systems import Target

WRK_LUA = Path(__file__).with_name("add_contacts.lua")
WRK_TIMEOUT = "30s"  # wrk's default of 2 s would turn a slow answer into an error and hide it
SAMPLE_INTERVAL_SECONDS = 0.2


@dataclass(frozen=True)
class LoadResult:
    batch: int
    connections: int
    seconds: float
    requests: int
    sent: int
    ok: int
    bad_statuses: dict[str, int]
    bad_sample: str
    socket_errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    wrk_cpu_seconds: float

    @property
    def contacts(self) -> int:
        """Contacts acknowledged: every successful answer stored its whole batch."""
        return self.ok * self.batch

    @property
    def contacts_per_second(self) -> float:
        return self.contacts / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def unanswered(self) -> int:
        """Requests made that got no answer: cut off at wrk's deadline, or failed."""
        return self.sent - self.ok - sum(self.bad_statuses.values())

    @property
    def errors(self) -> int:
        return sum(self.bad_statuses.values()) + sum(self.socket_errors.values())

    @property
    def wrk_cpu_percent(self) -> float:
        return 100 * self.wrk_cpu_seconds / self.seconds

    def describe_errors(self) -> str:
        parts = [f"{status}: {count}" for status, count in sorted(self.bad_statuses.items())]
        parts += [f"{kind}: {count}" for kind, count in self.socket_errors.items() if count]
        return ", ".join(parts) or "none"


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


def run_wrk(
    target: Target,
    *,
    batch: int,
    connections: int,
    seconds: int,
    lead: str,
    threads: int,
    log_path: Path,
) -> LoadResult:
    """Send batches of `batch` new contacts from `connections` connections for `seconds`.

    `lead` is the first digit of every national number sent: runs against one
    database need different ones.
    """
    command = [
        wrk_path(), "-t", str(min(threads, connections)), "-c", str(connections),
        "-d", f"{seconds}s", "--timeout", WRK_TIMEOUT, "-s", str(WRK_LUA), target.url,
        "--", target.shape, str(batch), lead, str(target.ok_status), target.token,
    ]  # fmt: skip
    with log_path.open("w+") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{text}")
    result: dict[str, int | float | dict[str, int]] | None = None
    sample = ""
    for line in text.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line.removeprefix("WRK_RESULT "))
        elif line.startswith("WRK_BAD_SAMPLE "):
            sample = line.removeprefix("WRK_BAD_SAMPLE ")
    if result is None:
        raise RuntimeError(f"wrk printed no WRK_RESULT line:\n{text}")

    def number(key: str) -> float:
        value = result[key]
        assert isinstance(value, int | float)
        return float(value)

    bad = result["bad_statuses"]
    assert isinstance(bad, dict)
    return LoadResult(
        batch=batch,
        connections=connections,
        seconds=number("duration_us") / 1e6,
        requests=int(number("requests")),
        sent=int(number("sent")),
        ok=int(number("ok")),
        bad_statuses={str(status): int(count) for status, count in bad.items()},
        bad_sample=sample,
        socket_errors={kind: int(number(kind)) for kind in ("connect", "read", "write", "timeout")},
        p50_ms=number("p50_us") / 1000,
        p90_ms=number("p90_us") / 1000,
        p99_ms=number("p99_us") / 1000,
        max_ms=number("max_us") / 1000,
        wrk_cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


@dataclass
class ProcessTreeSampler:
    """The summed RSS of a process and its descendants, sampled in a thread of its own."""

    pid: int
    interval: float = SAMPLE_INTERVAL_SECONDS
    samples: list[tuple[float, int]] = field(default_factory=list)
    peak_rss: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._root = psutil.Process(self.pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0
        self._cpu_at_start = 0.0

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _cpu(self) -> float:
        total = 0.0
        for process in self._tree():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def rss(self) -> int:
        total = 0
        for process in self._tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _sample(self) -> None:
        rss = self.rss()
        self.samples.append((time.monotonic() - self._started, rss))
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> ProcessTreeSampler:
        self._started = time.monotonic()
        self._cpu_at_start = self._cpu()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the very end, which the thread's interval may have missed
        self.wall_seconds = time.monotonic() - self._started
        self.cpu_seconds = self._cpu() - self._cpu_at_start

    @property
    def cpu_percent(self) -> float:
        """CPU time over wall time, in percent of one core."""
        return 100 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0
