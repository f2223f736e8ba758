"""What a throughput run measured, and how it stands against the targets of issue 5.

A `Cell` is one system under one load (batch size, connections); a `Run` is
every cell and ceiling of one run of bench/throughput.py, with the machine it
ran on. `verdicts` compares them as the issue asks, at the issue's 16
connections; `ratios` gives the same comparisons at every connection count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from _ceiling import Ceiling
from _load import LoadResult

BATCHES = (1, 10, 100)
CONNECTIONS = (1, 8, 32)
# The figures and targets are at 16 connections, for batches of 1 and of 100.
TARGET_CONNECTIONS = 16
TARGET_BATCHES = (1, 100)
SQLITE, POSTGRES, DATASETTE = "contacthub-sqlite", "contacthub-postgres", "datasette"

BATCH_VS_PEER = 3.0
BATCH_VS_SQLITE_CEILING = 0.40
SINGLE_VS_PEER = 10.0
SINGLE_P99_MS = 25.0
POSTGRES_BATCH_VS_CEILING = 0.50


def cells() -> list[tuple[int, int]]:
    """(batch, connections) of every cell: the matrix and the target cells."""
    matrix = {(batch, connections) for batch in BATCHES for connections in CONNECTIONS}
    targets = {(batch, TARGET_CONNECTIONS) for batch in TARGET_BATCHES}
    return sorted(matrix | targets)


def ceiling_plan() -> dict[tuple[int, int], list[tuple[str, int, int]]]:
    """The ceilings to measure right after a cell: (database, rows per commit, connections).

    Each is measured next to the cells it is compared with, so that the two see
    the machine in much the same state. SQLite has one writer at a time, so one
    connection, beside the target cells; PostgreSQL at every connection count of
    the 100-contact cells, and singles at the target's.
    """
    plan: dict[tuple[int, int], list[tuple[str, int, int]]] = {
        (100, connections): [("PostgreSQL", 100, connections)]
        for connections in sorted({*CONNECTIONS, TARGET_CONNECTIONS})
    }
    plan[100, TARGET_CONNECTIONS].insert(0, ("SQLite", 100, 1))
    plan[1, TARGET_CONNECTIONS] = [("SQLite", 1, 1), ("PostgreSQL", 1, TARGET_CONNECTIONS)]
    return plan


@dataclass(frozen=True)
class Cell:
    system: str
    batch: int
    connections: int
    load: LoadResult
    warmup: LoadResult | None
    peak_rss: int
    server_cpu_percent: float
    stored: int

    @property
    def acknowledged(self) -> int:
        return self.load.contacts + (self.warmup.contacts if self.warmup else 0)

    @property
    def unanswered_bound(self) -> int:
        """Contacts that requests with no answer may have stored: cut off, or failed.

        wrk stops at its deadline without waiting for the requests in flight,
        about one per connection, and the server may still store them.
        """
        runs = [run for run in (self.warmup, self.load) if run is not None]
        return sum(run.unanswered for run in runs) * self.batch

    @property
    def count_agrees(self) -> bool:
        return 0 <= self.stored - self.acknowledged <= self.unanswered_bound

    def describe_count(self) -> str:
        extra = self.stored - self.acknowledged
        if extra < 0:
            return f"LOST {-extra}"
        if extra > self.unanswered_bound:
            return f"{extra} TOO MANY (bound {self.unanswered_bound})"
        return f"ok +{extra} of {self.unanswered_bound}"

    @property
    def errors(self) -> int:
        return self.load.errors + (self.warmup.errors if self.warmup else 0)

    @property
    def clean(self) -> bool:
        return self.errors == 0 and self.count_agrees


@dataclass(frozen=True)
class Run:
    cells: list[Cell]
    ceilings: list[Ceiling]
    facts: list[tuple[str, str]]
    load_before: str
    load_after: str
    seconds: int
    warmup: int
    threads: int
    elapsed_seconds: float
    finished: datetime

    def cell(self, system: str, batch: int, connections: int) -> Cell | None:
        for cell in self.cells:
            if (cell.system, cell.batch, cell.connections) == (system, batch, connections):
                return cell
        return None

    def ceiling(self, database: str, rows_per_commit: int, connections: int) -> Ceiling | None:
        for ceiling in self.ceilings:
            if (ceiling.database, ceiling.rows_per_commit, ceiling.connections) == (
                database,
                rows_per_commit,
                connections,
            ):
                return ceiling
        return None


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    met: bool | None  # None: a figure it needs was not measured

    @property
    def word(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]


def _versus(
    goal: str, ours: float | None, theirs: float | None, unit: str, at_least: float, percent: bool
) -> Verdict:
    if ours is None or not theirs:
        return Verdict(goal, "-", None)
    ratio = ours / theirs
    shown = f"{ratio:.0%}" if percent else f"{ratio:.2f}x"
    return Verdict(goal, f"{ours:,.0f} vs {theirs:,.0f} {unit}: {shown}", ratio >= at_least)


def verdicts(run: Run) -> list[Verdict]:
    n = TARGET_CONNECTIONS
    batches = run.cell(SQLITE, 100, n)
    peer_batches = run.cell(DATASETTE, 100, n)
    sqlite_ceiling = run.ceiling("SQLite", 100, 1)
    singles = run.cell(SQLITE, 1, n)
    peer_singles = run.cell(DATASETTE, 1, n)
    postgres_batches = run.cell(POSTGRES, 100, n)
    postgres_ceiling = run.ceiling("PostgreSQL", 100, n)

    def rate(cell: Cell | None) -> float | None:
        return None if cell is None else cell.load.contacts_per_second

    sqlite_batch_cells = [c for c in run.cells if (c.system, c.batch) == (SQLITE, 100)]
    errors = sum(cell.errors for cell in sqlite_batch_cells)
    disagree = sum(not cell.count_agrees for cell in sqlite_batch_cells)
    return [
        _versus(
            f"100-contact batches on SQLite, {n} connections: at least "
            f"{BATCH_VS_PEER:g}x Datasette",
            rate(batches),
            rate(peer_batches),
            "contacts/s",
            BATCH_VS_PEER,
            percent=False,
        ),
        _versus(
            f"100-contact batches on SQLite, {n} connections: at least "
            f"{BATCH_VS_SQLITE_CEILING:.0%} of the raw SQLite ceiling (100 rows a commit)",
            rate(batches),
            None if sqlite_ceiling is None else sqlite_ceiling.rows_per_second,
            "rows/s",
            BATCH_VS_SQLITE_CEILING,
            percent=True,
        ),
        Verdict(
            "100-contact batches on SQLite: zero errors, and every stored count agrees "
            "(every connection count)",
            f"{errors} errors, {disagree} counts off, in {len(sqlite_batch_cells)} cells",
            (errors == 0 and disagree == 0) if sqlite_batch_cells else None,
        ),
        _versus(
            f"Single contacts on SQLite, {n} connections: at least {SINGLE_VS_PEER:g}x Datasette",
            rate(singles),
            rate(peer_singles),
            "contacts/s",
            SINGLE_VS_PEER,
            percent=False,
        ),
        Verdict(
            f"Single contacts on SQLite, {n} connections: p99 latency at most {SINGLE_P99_MS:g} ms",
            "-" if singles is None else f"p99 {singles.load.p99_ms:.1f} ms",
            None if singles is None else singles.load.p99_ms <= SINGLE_P99_MS,
        ),
        _versus(
            f"100-contact batches on PostgreSQL, {n} connections: at least "
            f"{POSTGRES_BATCH_VS_CEILING:.0%} of raw executemany at {n} connections",
            rate(postgres_batches),
            None if postgres_ceiling is None else postgres_ceiling.rows_per_second,
            "rows/s",
            POSTGRES_BATCH_VS_CEILING,
            percent=True,
        ),
    ]


def ratios(run: Run) -> list[tuple[int, list[str]]]:
    """Per connection count: the target comparisons, as text ('-' where not measured)."""

    def share(numerator: float | None, denominator: float | None, percent: bool) -> str:
        if numerator is None or not denominator:
            return "-"
        value = numerator / denominator
        return f"{value:.0%}" if percent else f"{value:.2f}x"

    def rate(system: str, batch: int, connections: int) -> float | None:
        cell = run.cell(system, batch, connections)
        return None if cell is None else cell.load.contacts_per_second

    def ceiling_rate(database: str, rows: int, connections: int) -> float | None:
        ceiling = run.ceiling(database, rows, connections)
        return None if ceiling is None else ceiling.rows_per_second

    rows = []
    for connections in sorted({*CONNECTIONS, TARGET_CONNECTIONS}):
        singles = run.cell(SQLITE, 1, connections)
        rows.append(
            (
                connections,
                [
                    share(rate(SQLITE, 100, connections), rate(DATASETTE, 100, connections), False),
                    share(rate(SQLITE, 100, connections), ceiling_rate("SQLite", 100, 1), True),
                    share(rate(SQLITE, 1, connections), rate(DATASETTE, 1, connections), False),
                    "-" if singles is None else f"{singles.load.p99_ms:.1f}",
                    share(
                        rate(POSTGRES, 100, connections),
                        ceiling_rate("PostgreSQL", 100, connections),
                        True,
                    ),
                ],
            )
        )
    return rows


RATIO_HEADERS: Sequence[str] = (
    "SQLite 100-batches / Datasette",
    "SQLite 100-batches / raw SQLite",
    "SQLite singles / Datasette",
    "SQLite singles p99 ms",
    "PostgreSQL 100-batches / raw executemany",
)
