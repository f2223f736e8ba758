"""A throughput run's figures: printed as tables, and written as docs/benchmarks.md with a plot.

The page is generated whole by every full run: its text lives here, and its
figures come only from the run it describes.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import median

import psycopg
from _harness import cpu_model, memory_total
from _load import LoadResult
from _results import (
    BATCHES,
    CONNECTIONS,
    DATASETTE,
    POSTGRES,
    RATIO_HEADERS,
    SQLITE,
    TARGET_BATCHES,
    TARGET_CONNECTIONS,
    TARGET_REPEATS,
    Cell,
    Run,
    ratios,
    verdicts,
)
from _systems import Datasette
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

REPOSITORY = Path(__file__).resolve().parent.parent
DOCS = REPOSITORY / "docs"
PAGE = DOCS / "benchmarks.md"
PLOT = DOCS / "benchmarks-throughput.png"
SYSTEM_ORDER = (SQLITE, POSTGRES, DATASETTE)
SYSTEM_LABELS = {
    SQLITE: "contacthub, SQLite",
    POSTGRES: "contacthub, PostgreSQL",
    DATASETTE: "Datasette insert API",
}
CELL_HEADERS = (
    "batch", "conn", "system", "contacts/s", "requests/s", "p50 ms", "p99 ms", "max ms",
    "errors", "stored", "peak RSS MiB", "server CPU %", "wrk CPU %",
)  # fmt: skip
CEILING_HEADERS = (
    "database", "rows/commit", "conn", "round", "rows/s", "commits/s", "p50 ms", "p99 ms",
)  # fmt: skip


# --- the machine -----------------------------------------------------------------------


def machine_facts(postgres_url: str, *, datasette: bool) -> list[tuple[str, str]]:
    try:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        postgres = str(row[0]) if row else "?"
    except psycopg.OperationalError:
        postgres = f"not reachable at {postgres_url}"
    facts = [
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable by this process)"),
        ("memory", memory_total()),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres),
        ("wrk", _wrk_version()),
    ]
    if datasette:
        facts.append(("Datasette", Datasette.version()))
    facts.append(("contacthub", _commit()))
    return facts


def _wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "?"
    # `wrk -v` prints its version line, then its usage, and exits 1.
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False, timeout=10)
    first = (done.stdout or done.stderr).splitlines()[0]
    return first.split(" Copyright")[0].removeprefix("wrk ").strip()


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPOSITORY), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "?"
    if git("status", "--porcelain", "--", "src"):
        commit += ", with uncommitted changes to src/"
    return commit


# --- tables ----------------------------------------------------------------------------


def _cell_row(cell: Cell) -> list[str]:
    load: LoadResult = cell.load
    errors = load.describe_errors()
    if cell.warmup is not None and cell.warmup.errors:
        errors += f" (warm-up: {cell.warmup.describe_errors()})"
    label = SYSTEM_LABELS[cell.system]
    if cell.batch in TARGET_BATCHES and cell.connections == TARGET_CONNECTIONS:
        label += f", round {cell.repeat + 1}"
    return [
        str(cell.batch),
        str(cell.connections),
        label,
        f"{load.contacts_per_second:,.0f}",
        f"{load.requests_per_second:,.0f}",
        f"{load.p50_ms:.1f}",
        f"{load.p99_ms:.1f}",
        f"{load.max_ms:.0f}",
        errors,
        cell.describe_count(),
        f"{cell.peak_rss / 2**20:.0f}",
        f"{cell.server_cpu_percent:.0f}",
        f"{load.wrk_cpu_percent:.0f}",
    ]


def _ordered(cells: Sequence[Cell]) -> list[Cell]:
    return sorted(
        cells, key=lambda c: (c.batch, c.connections, c.repeat, SYSTEM_ORDER.index(c.system))
    )


def _ceiling_rows(run: Run) -> list[list[str]]:
    return [
        [
            ceiling.database,
            str(ceiling.rows_per_commit),
            str(ceiling.connections),
            str(ceiling.repeat + 1),
            f"{ceiling.rows_per_second:,.0f}",
            f"{ceiling.commits_per_second:,.0f}",
            f"{ceiling.p50_ms:.2f}",
            f"{ceiling.p99_ms:.2f}",
        ]
        for ceiling in sorted(
            run.ceilings,
            key=lambda c: (c.database != "SQLite", -c.rows_per_commit, c.connections, c.repeat),
        )
    ]


def _ratio_rows(run: Run) -> list[list[str]]:
    return [[str(connections), *values] for connections, values in ratios(run)]


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(text.rjust(width) for text, width in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True)))
    return lines


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(text.replace("|", "\\|") for text in row) + " |" for row in rows]
    return lines


def print_report(run: Run) -> None:
    print()
    print(
        f"POST /v3/contact/add and Datasette's insert API: wrk, {run.seconds} s per cell "
        f"after {run.warmup} s of warm-up"
    )
    print("\n".join(_text_table(CELL_HEADERS, [_cell_row(c) for c in _ordered(run.cells)])))
    if run.ceilings:
        print()
        print("Raw insert ceiling (no HTTP)")
        print("\n".join(_text_table(CEILING_HEADERS, _ceiling_rows(run))))
    judged = verdicts(run)
    if any(verdict.met is not None for verdict in judged):
        print()
        print("Ratios by connection count")
        print("\n".join(_text_table(["conn", *RATIO_HEADERS], _ratio_rows(run))))
        print()
        print(f"Targets of issue 5, at {TARGET_CONNECTIONS} connections")
        for verdict in judged:
            print(f"  {verdict.word:<12} {verdict.goal}: {verdict.measured}")
    print()
    for name, value in run.facts:
        print(f"{name:<12} {value}")
    print(f"{'load avg':<12} {run.load_before} before, {run.load_after} after")


# --- the page and the plot -------------------------------------------------------------

PREAMBLE = """\
How fast contacthub takes contacts in, beside the nearest installable peer
(Datasette's row-insert API) and beside the database storing the same rows
itself, all measured in one run on one machine, so that the ratios are fair
even when the machine is busy with other work (issue 5).

- **Load**: [wrk](https://github.com/wg/wrk) with
  [bench/add_contacts.lua](../bench/add_contacts.lua), in a process of its
  own: `POST /v3/contact/add` with batches of 1, 10 or 100 new contacts (unique
  Indian mobile numbers, all fields filled), from 1, 8, 16 or 32 connections,
  as fast as the server answers, for a fixed time after a short warm-up.
- **Servers**: each cell gets a fresh server on a fresh database, started as
  a user starts it: `contacthub serve` with its defaults (a new SQLite file, or
  a new PostgreSQL database; one worker process per CPU of the machine below,
  at most 4), and `datasette serve` with a `contacts` table
  with a unique index on (org_id, phone_no), its file in WAL mode as
  contacthub's is (both then sync once per commit). Datasette checks nothing of
  the rows; contacthub validates and normalises every phone number, e-mail and
  name, refuses duplicates and answers with each contact's new id.
- **Rounds**: the target cells (batches of 1 and of 100 at {target}
  connections) run {repeats} times, each time every system in turn and then the
  ceilings they are compared with. A ratio is taken within a round, and each
  target is judged on the median of its rounds' ratios, all of them shown: the
  machine's speed drifts by 10-20% within a minute, more than a single pair of
  cells can tell apart. The plot and the ratio table show medians too.
- **Ceiling**: the same rows into contacthub's own schema (its migrations,
  so the same indexes), with no HTTP: SQLite in WAL with `synchronous=FULL`,
  one transaction per batch, and PostgreSQL with psycopg's `executemany`, one
  transaction per batch, from as many connections as the HTTP cells.
- **Memory**: the server's peak RSS is the sum over its process and all of
  its children, sampled every 0.2 s with psutil; PostgreSQL's own processes
  are not counted. For memory under sustained load see
  [benchmarks-soak.md](benchmarks-soak.md) (`make soak`).
- **Errors**: any answer other than success (`200`; `201` for Datasette) and
  any socket error or time-out (30 s). "stored" compares the count the server
  reports afterwards with the contacts acknowledged: `ok +N of M` means it
  stored N more, which is fine up to the M contacts of requests that got no
  answer, cut off at wrk's deadline (wrk does not wait for them).
"""


def _medians(points: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """(x, y) points with one y per x: the median of that x's rounds."""
    by_x: dict[int, list[float]] = {}
    for x, y in points:
        by_x.setdefault(x, []).append(y)
    return [(x, median(ys)) for x, ys in sorted(by_x.items())]


def _plot(run: Run, path: Path) -> None:
    colours = {SQLITE: "tab:blue", POSTGRES: "tab:orange", DATASETTE: "tab:green"}
    # A Figure of its own renders with Agg, whatever backend pyplot would pick.
    figure = Figure(figsize=(15, 6), layout="constrained")
    axes = figure.subplots(1, len(BATCHES))
    for axis, batch in zip(axes, BATCHES, strict=True):
        for system in SYSTEM_ORDER:
            points = _medians(
                (c.connections, c.load.contacts_per_second)
                for c in run.cells
                if (c.system, c.batch) == (system, batch)
            )
            if points:
                x, y = zip(*points, strict=True)
                axis.plot(x, y, marker="o", color=colours[system], label=SYSTEM_LABELS[system])
        rows = f"{batch} row{'s' if batch > 1 else ''}/commit"
        sqlite = [
            c.rows_per_second
            for c in run.ceilings
            if (c.database, c.rows_per_commit) == ("SQLite", batch)
        ]
        if sqlite:
            axis.axhline(
                median(sqlite),
                color=colours[SQLITE],
                linestyle="--",
                label=f"raw SQLite, {rows}, 1 connection",
            )
        postgres = _medians(
            (c.connections, c.rows_per_second)
            for c in run.ceilings
            if (c.database, c.rows_per_commit) == ("PostgreSQL", batch)
        )
        if postgres:
            x, y = zip(*postgres, strict=True)
            axis.plot(
                x,
                y,
                linestyle="--",
                marker="s",
                color=colours[POSTGRES],
                label=f"raw PostgreSQL, executemany, {rows}",
            )
        axis.set_xscale("log", base=2)
        axis.set_xticks(sorted({*CONNECTIONS, TARGET_CONNECTIONS}))
        axis.set_xticklabels([str(n) for n in sorted({*CONNECTIONS, TARGET_CONNECTIONS})])
        axis.set_ylim(bottom=0)
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axis.set_title(f"batches of {batch}")
        axis.set_xlabel("connections")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    axes[0].set_ylabel("contacts stored per second")
    figure.suptitle(
        f"POST /v3/contact/add vs Datasette vs raw inserts — {run.finished:%Y-%m-%d}, "
        f"{run.seconds} s per point"
    )
    figure.savefig(path, dpi=110)


def write_docs(run: Run) -> list[Path]:
    _plot(run, PLOT)
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by bench/throughput.py (`make bench`): change the script, "
        "not this page. -->",
        "",
        PREAMBLE.format(target=TARGET_CONNECTIONS, repeats=TARGET_REPEATS),
        f"Measured {run.finished:%Y-%m-%d %H:%M} UTC: {run.seconds} s per cell after "
        f"{run.warmup} s of warm-up, wrk with {run.threads} threads; the whole run took "
        f"{run.elapsed_seconds / 60:.1f} minutes. Load average (1/5/15 min) "
        f"{run.load_before} before, {run.load_after} after: other work on the machine "
        "lowers every figure, not the ratios of one run.",
        "",
        f"## Against the targets of issue 5 ({TARGET_CONNECTIONS} connections)",
        "",
        *_markdown_table(
            ["target", "measured", ""],
            [[v.goal, v.measured, f"**{v.word}**"] for v in verdicts(run)],
        ),
        "",
        f"![contacts per second against connections]({PLOT.name})",
        "",
        "## The machine",
        "",
        *_markdown_table(["", ""], [list(fact) for fact in run.facts]),
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench        # everything on this page; installs wrk and Datasette first",
        "make bench-peers  # Datasette alone",
        "make soak         # memory under 10 minutes of load: benchmarks-soak.md",
        ".venv/bin/python bench/throughput.py --quick   # 2 s cells, prints only",
        "```",
        "",
        "## POST /v3/contact/add, and Datasette's insert API",
        "",
        "Contacts/s counts contacts acknowledged (successful answers times the batch); "
        "latencies are wrk's, per request. Server CPU is in per cent of one core, "
        "over the measured seconds; wrk CPU is the load generator's own.",
        "",
    ]
    for batch in BATCHES:
        lines += [f"### Batches of {batch}", ""]
        rows = [_cell_row(c) for c in _ordered(run.cells) if c.batch == batch]
        lines += [*_markdown_table(CELL_HEADERS[1:], [row[1:] for row in rows]), ""]
    lines += [
        "## Raw insert ceiling",
        "",
        "The same rows into the same schema, no HTTP. On SQLite the seconds are the "
        "transactions' own (one writer; making the rows in Python between them is left "
        "out); on PostgreSQL, wall-clock seconds of all connections together.",
        "",
        *_markdown_table(CEILING_HEADERS, _ceiling_rows(run)),
        "",
        "## Ratios at every connection count",
        "",
        *_markdown_table(["conn", *RATIO_HEADERS], _ratio_rows(run)),
        "",
    ]
    PAGE.write_text("\n".join(lines))
    return [PAGE, PLOT]
