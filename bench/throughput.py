"""Throughput of `POST /v3/contact/add` against Datasette's insert API and the database's ceiling.

What it measures, all in one run so that the ratios come from one state of a
noisy machine (issue 5):

- contacthub on SQLite and on PostgreSQL, and Datasette's row-insert API
  (the nearest installable peer, bench/_systems.py), each loaded by wrk with
  bench/add_contacts.lua: batches of 1, 10 and 100 new contacts from 1, 8 and
  32 connections, and the issue's target cells, batches of 1 and of 100 from
  16 connections, three rounds of those (bench/_results.py). For every cell:
  contacts/s, requests/s, p50/p99/max latency, errors (answers other than
  success, and socket errors), the server's peak
  memory (RSS of its process and all of its children, summed, sampled every
  0.2 s), the server's and wrk's own CPU use, and whether the number of
  contacts the server stored agrees with the number it acknowledged;
- the raw insert ceiling (bench/_ceiling.py): the same rows into the same
  schema without HTTP, SQLite at 100 rows and at 1 row per commit, PostgreSQL
  with executemany at 100 rows per commit from as many connections as the
  HTTP cells, and at 1 row per commit from 16.

How: every cell gets a fresh server on a fresh database (a new SQLite file, or
a new PostgreSQL database `contacthub_bench_<random>` on `--postgres-url`,
dropped afterwards), started as a user starts it (`contacthub serve` with its
defaults; `datasette serve`), and for contacthub a new app and user. wrk first
warms the server up for `--warmup` seconds, then measures for `--seconds`.
The cells run in the order batch, connections, round, system, and each
ceiling runs right after the cells of the round it is compared with, so that
the figures of one ratio are measured at most a minute or two apart on a
machine whose load changes.

The stored count is checked against the acknowledged contacts (successful
answers times the batch size, warm-up included): fewer stored is a loss;
more is allowed only up to what the requests cut off at wrk's deadline or
by a socket error could have stored, since wrk does not wait for those.

A full run (every system, not --quick) writes docs/benchmarks.md and
docs/benchmarks-throughput.png. Cells with errors or a count that does not
agree keep their server and wrk logs under bench/.out/, and the script exits 1.

Run it from the repository root (`make bench` installs wrk and Datasette first):

    .venv/bin/python bench/throughput.py                   # about 11 minutes
    .venv/bin/python bench/throughput.py --quick           # 2 s cells, prints only
    .venv/bin/python bench/throughput.py --systems datasette
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from _ceiling import Ceiling, postgres_ceiling, sqlite_ceiling
from _harness import CONTACTHUB, DEFAULT_POSTGRES_URL, load_average
from _load import ProcessTreeSampler, run_wrk, wrk_path
from _report import machine_facts, print_report, write_docs
from _results import Cell, Run, ceiling_plan, cells
from _systems import ContactHub, Datasette

SYSTEMS = ("sqlite", "postgres", "datasette", "ceiling")
OUT = Path(__file__).with_name(".out")
WARMUP_LEAD, MEASURED_LEAD = "8", "9"


def measure_cell(
    system: ContactHub | Datasette,
    batch: int,
    connections: int,
    repeat: int,
    args: argparse.Namespace,
    directory: Path,
) -> Cell:
    directory.mkdir()
    with system.target(directory) as target:
        warmup = None
        if args.warmup:
            warmup = run_wrk(
                target,
                batch=batch,
                connections=connections,
                seconds=args.warmup,
                lead=WARMUP_LEAD,
                threads=args.threads,
                log_path=directory / "wrk-warmup.log",
            )
        with ProcessTreeSampler(target.pid) as usage:
            load = run_wrk(
                target,
                batch=batch,
                connections=connections,
                seconds=args.seconds,
                lead=MEASURED_LEAD,
                threads=args.threads,
                log_path=directory / "wrk.log",
            )
        stored = target.stored()
    return Cell(
        system.name,
        batch,
        connections,
        load,
        warmup,
        usage.peak_rss,
        usage.cpu_percent,
        stored,
        repeat,
    )


def measure_ceiling(
    database: str,
    rows_per_commit: int,
    connections: int,
    repeat: int,
    args: argparse.Namespace,
    root: Path,
) -> Ceiling:
    if database == "SQLite":
        directory = root / f"ceiling-{rows_per_commit}-r{repeat}"
        directory.mkdir()
        ceiling = sqlite_ceiling(directory, rows_per_commit, args.seconds)
        shutil.rmtree(directory)
    else:
        ceiling = postgres_ceiling(args.postgres_url, rows_per_commit, connections, args.seconds)
    print(f"ceiling              {describe_ceiling(ceiling)}", flush=True)
    return dataclasses.replace(ceiling, repeat=repeat)


def describe_ceiling(ceiling: Ceiling) -> str:
    return (
        f"{ceiling.database:<10} {ceiling.rows_per_commit:>3} rows/commit "
        f"{ceiling.connections:>2} conn  {ceiling.rows_per_second:>9,.0f} rows/s  "
        f"{ceiling.commits_per_second:>7,.0f} commits/s  p99 {ceiling.p99_ms:.1f} ms"
    )


def keep_logs(directory: Path, stamp: str) -> Path:
    kept = OUT / stamp / directory.name
    kept.mkdir(parents=True, exist_ok=True)
    for log in directory.glob("*.log"):
        shutil.copy(log, kept / log.name)
    return kept


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    systems: list[ContactHub | Datasette] = [
        ContactHub(name, args.postgres_url)
        for name in ("sqlite", "postgres")
        if name in args.systems
    ]
    if "datasette" in args.systems:
        systems.append(Datasette())
    load_before = load_average()
    results: list[Cell] = []
    ceilings: list[Ceiling] = []
    plan = ceiling_plan()
    with tempfile.TemporaryDirectory(prefix="contacthub-bench-") as temporary:
        root = Path(temporary)
        for batch, connections, repeat in cells():
            for system in systems:
                directory = root / f"{system.name}-b{batch}-c{connections}-r{repeat}"
                try:
                    cell = measure_cell(system, batch, connections, repeat, args, directory)
                except Exception:
                    print(f"failed       logs kept in {keep_logs(directory, stamp)}")
                    raise
                results.append(cell)
                line = (
                    f"{system.name:<20} batch {batch:>3} conn {connections:>2}  "
                    f"{cell.load.contacts_per_second:>9,.0f} contacts/s  "
                    f"p99 {cell.load.p99_ms:>7.1f} ms  errors {cell.load.describe_errors()}  "
                    f"stored {cell.describe_count()}"
                )
                if not cell.clean:
                    line += f"  (logs kept in {keep_logs(directory, stamp)})"
                    if cell.load.bad_sample:
                        line += f"\n    first unexpected answer: {cell.load.bad_sample}"
                print(line, flush=True)
                shutil.rmtree(directory)
            if "ceiling" in args.systems:
                for database, rows_per_commit, ceiling_connections in plan.get(
                    (batch, connections), []
                ):
                    ceilings.append(
                        measure_ceiling(
                            database, rows_per_commit, ceiling_connections, repeat, args, root
                        )
                    )
    elapsed = time.monotonic() - started
    report = Run(
        cells=results,
        ceilings=ceilings,
        facts=machine_facts(args.postgres_url, datasette="datasette" in args.systems),
        load_before=load_before,
        load_after=load_average(),
        seconds=args.seconds,
        warmup=args.warmup,
        threads=args.threads,
        elapsed_seconds=elapsed,
        finished=datetime.now(UTC),
    )
    print_report(report)
    if set(args.systems) == set(SYSTEMS) and not args.quick:
        for path in write_docs(report):
            print(f"wrote        {path}")
    else:
        print("docs         not written: only a full run (every system, not --quick) writes them")
    print(f"total        {elapsed / 60:.1f} min")
    return 0 if all(cell.clean for cell in results) else 1


def whole_seconds(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def systems_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SYSTEMS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SYSTEMS)}, not {text!r}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure POST /v3/contact/add against Datasette's insert API and the "
        "raw insert ceiling, on SQLite and PostgreSQL."
    )
    parser.add_argument(
        "--seconds", type=whole_seconds, default=8, help="measured seconds per cell (default 8)"
    )
    parser.add_argument(
        "--warmup", type=whole_seconds, default=1, help="warm-up seconds per cell (default 1)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 s per cell and per ceiling, 1 s warm-up; prints only, writes no docs",
    )
    parser.add_argument(
        "--systems",
        type=systems_list,
        default=list(SYSTEMS),
        help=f"comma-separated, from {','.join(SYSTEMS)} (default all)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"a database to connect to for CREATE/DROP DATABASE (default {DEFAULT_POSTGRES_URL})",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup = 2, 1
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    if not 1 <= args.threads <= 10:
        parser.error("--threads must be 1 to 10 (one digit of each phone number)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not CONTACTHUB.exists():
        print(f"error: {CONTACTHUB} not found; run this with the project's .venv/bin/python")
        return 2
    if "datasette" in args.systems and not Datasette.installed():
        print("error: Datasette is not installed in bench/.peers/; run `make bench-peers`")
        return 2
    wrk_path()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
