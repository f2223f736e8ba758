"""Memory under sustained load: the server's RSS after 1 minute and at the end of a long run.

What it measures (issue 5, item 3: memory flat): one `contacthub serve`,
started as a user starts it (its defaults, a fresh SQLite file; or a fresh
PostgreSQL database with `--backend postgres`), under one sustained load from
wrk with bench/add_contacts.lua: batches of `--batch` new contacts (default
100) from `--connections` (default 8) for `--minutes` (default 10). Every
`--interval` seconds (default 5) it samples the server's resident memory, the
sum over its process and all of its children (psutil), and the organization's
stored count (`POST /v3/contact/get`, one small extra request).

It reports the RSS at 1 minute and at the end, and the change between them
(the target: within 10%), the peak, the contacts stored and the RSS minute by
minute, wrk's latency and errors over the whole run, and checks the stored
count against the contacts acknowledged. The figures go to stdout and, unless
`--no-docs`, to docs/benchmarks-soak.md (linked from docs/benchmarks.md).

Run it from the repository root (`make soak` installs wrk first):

    .venv/bin/python bench/soak.py                          # 10 minutes
    .venv/bin/python bench/soak.py --minutes 2 --no-docs    # to try it
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from _harness import CONTACTHUB, DEFAULT_POSTGRES_URL, load_average
from _load import LoadResult, ProcessTreeSampler, run_wrk, wrk_path
from _report import DOCS, machine_facts
from _systems import ContactHub

PAGE = DOCS / "benchmarks-soak.md"
TARGET_CHANGE = 0.10
FIRST_MINUTE_SECONDS = 60.0
MIB = 2**20


def rss_at(samples: Sequence[tuple[float, int]], seconds: float) -> tuple[float, int]:
    """The sample nearest to `seconds` after the start: (when, bytes)."""
    return min(samples, key=lambda sample: abs(sample[0] - seconds))


def soak(args: argparse.Namespace) -> int:
    system = ContactHub(args.backend, args.postgres_url)
    seconds = args.minutes * 60
    load_before = load_average()
    counts: list[tuple[float, int]] = []
    outcome: list[LoadResult] = []
    failure: list[BaseException] = []
    with tempfile.TemporaryDirectory(prefix="contacthub-soak-") as temporary:
        directory = Path(temporary)
        with system.target(directory) as target:

            def load() -> None:
                try:
                    outcome.append(
                        run_wrk(
                            target,
                            batch=args.batch,
                            connections=args.connections,
                            seconds=seconds,
                            lead="9",
                            threads=args.threads,
                            log_path=directory / "wrk.log",
                        )
                    )
                except BaseException as exc:
                    failure.append(exc)

            print(
                f"soak         {system.name}, batches of {args.batch} from {args.connections} "
                f"connections for {args.minutes} min; RSS every {args.interval:g} s",
                flush=True,
            )
            loader = threading.Thread(target=load, name="wrk")
            with ProcessTreeSampler(target.pid, interval=args.interval) as usage:
                started = time.monotonic()
                loader.start()
                next_minute = 60.0
                while loader.is_alive():
                    loader.join(args.interval)
                    elapsed = time.monotonic() - started
                    counts.append((elapsed, target.stored()))
                    if elapsed >= next_minute and usage.samples:
                        print(
                            f"  {elapsed / 60:4.1f} min  RSS {usage.samples[-1][1] / MIB:7.1f} MiB"
                            f"  stored {counts[-1][1]:>10,}",
                            flush=True,
                        )
                        next_minute += 60.0
            if failure:
                raise failure[0]
            stored = target.stored()
    result = outcome[0]
    samples = usage.samples
    first_at, first = rss_at(samples, FIRST_MINUTE_SECONDS)
    end_at, end = samples[-1]
    change = (end - first) / first
    acknowledged = result.contacts
    # wrk does not wait for the requests in flight at its deadline: those may be stored.
    count_ok = 0 <= stored - acknowledged <= result.unanswered * args.batch
    minutes = per_minute(samples, counts, args.minutes)
    summary = [
        ("server", f"{system.name}, `contacthub serve` with its defaults"),
        (
            "load",
            f"wrk, batches of {args.batch} new contacts from {args.connections} connections, "
            f"{args.minutes} min",
        ),
        ("RSS at 1 minute", f"{first / MIB:.1f} MiB (sample at {first_at:.0f} s)"),
        ("RSS at the end", f"{end / MIB:.1f} MiB (sample at {end_at:.0f} s)"),
        (
            "change",
            f"{change:+.1%}: target within {TARGET_CHANGE:.0%}, "
            f"{'met' if abs(change) <= TARGET_CHANGE else 'NOT MET'}",
        ),
        ("peak RSS", f"{usage.peak_rss / MIB:.1f} MiB"),
        (
            "contacts",
            f"{acknowledged:,} acknowledged, {result.contacts_per_second:,.0f}/s on average; "
            f"stored {stored:,} ({'agrees' if count_ok else 'DOES NOT AGREE'})",
        ),
        (
            "latency",
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, max {result.max_ms:.0f} ms",
        ),
        ("errors", result.describe_errors()),
        ("server CPU", f"{usage.cpu_percent:.0f}% of one core; wrk {result.wrk_cpu_percent:.0f}%"),
        ("load average", f"{load_before} before, {load_average()} after"),
    ]
    print()
    for name, value in summary:
        print(f"{name:<16} {value}")
    if result.bad_sample:
        print(f"first unexpected answer: {result.bad_sample}")
    if not args.no_docs:
        write_page(summary, minutes, machine_facts(args.postgres_url, datasette=False))
        print(f"wrote            {PAGE}")
    return 0 if result.errors == 0 and count_ok else 1


def per_minute(
    samples: Sequence[tuple[float, int]], counts: Sequence[tuple[float, int]], minutes: int
) -> list[list[str]]:
    """Per minute: the RSS nearest its end, and the contacts stored during it."""
    rows = []
    previous = 0
    for minute in range(1, minutes + 1):
        _, rss = rss_at(samples, minute * 60.0)
        stored = min(counts, key=lambda count: abs(count[0] - minute * 60.0))[1]
        rows.append(
            [
                str(minute),
                f"{rss / MIB:.1f}",
                f"{stored - previous:,}",
                f"{(stored - previous) / 60:,.0f}",
            ]
        )
        previous = stored
    return rows


def write_page(
    summary: Sequence[tuple[str, str]],
    minutes: Sequence[Sequence[str]],
    facts: Sequence[tuple[str, str]],
) -> None:
    def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
        return [
            "| " + " | ".join(headers) + " |",
            "|" + "---|" * len(headers),
            *("| " + " | ".join(row) + " |" for row in rows),
        ]

    lines = [
        "# Memory under sustained load",
        "",
        "<!-- Generated by bench/soak.py (`make soak`): change the script, not this page. -->",
        "",
        "Whether the server's memory stays flat under a long load (issue 5): its resident",
        "memory (RSS, the sum over its process and all of its children) after 1 minute",
        "of load and at the end should be within 10% of each other. Sampled with psutil;",
        "the stored count is read through the API at the same times. See",
        "[benchmarks.md](benchmarks.md) for throughput.",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        *table(["", ""], [list(row) for row in summary]),
        "",
        "## Minute by minute",
        "",
        *table(["minute", "RSS MiB at its end", "contacts stored", "contacts/s"], minutes),
        "",
        "## The machine",
        "",
        *table(["", ""], [list(fact) for fact in facts]),
        "",
    ]
    PAGE.write_text("\n".join(lines))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the server's memory under one sustained load of contact adds."
    )
    parser.add_argument("--minutes", type=int, default=10, help="length of the load (default 10)")
    parser.add_argument("--batch", type=int, default=100, help="contacts per request (default 100)")
    parser.add_argument("--connections", type=int, default=8, help="connections (default 8)")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between samples (default 5)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"a database to connect to for CREATE/DROP DATABASE (default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.minutes < 2:
        parser.error("--minutes must be at least 2: the first minute is the baseline")
    if not 1 <= args.batch <= 100:
        parser.error("--batch must be 1 to 100")
    if args.connections < 1 or not 1 <= args.threads <= 10 or args.interval <= 0:
        parser.error("--connections must be at least 1, --threads 1 to 10, --interval above 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not CONTACTHUB.exists():
        print(f"error: {CONTACTHUB} not found; run this with the project's .venv/bin/python")
        return 2
    wrk_path()
    return soak(args)


if __name__ == "__main__":
    sys.exit(main())
