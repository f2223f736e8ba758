"""What a throughput run measured, and how it stands against the targets of issue 5.

A `Cell` is one system under one load (batch size, connections); a `Run` is
every cell and ceiling of one run of bench/throughput.py, with the machine it
ran on. `verdicts` compares them as the issue asks, at the issue's 16
connections; `ratios` gives the same comparisons at every connection count.

The target cells run TARGET_REPEATS times, each time every system in turn
and then the ceilings they are compared with: a repeat is one such round. A
ratio is taken within a round, and a target is judged on the median of its
rounds' ratios, every one of which is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from _ceiling import Ceiling
from _load import LoadResult

BATCHES = (1, 10, 100)
CONNECTIONS = (1, 8, 32)
# The figures and targets are at 16 connections, for batches of 1 and of 100.
TARGET_CONNECTIONS = 16
TARGET_BATCHES = (1, 100)
# The machine's speed drifts by 10-20% within a minute (other tenants, the
# disk): a single pair of cells could land on either side of a target by chance.
TARGET_REPEATS = 3
SQLITE, POSTGRES, DATASETTE = "contacthub-sqlite", "contacthub-postgres", "datasette"

BATCH_VS_PEER = 3.0
BATCH_VS_SQLITE_CEILING = 0.40
SINGLE_VS_PEER = 10.0
SINGLE_P99_MS = 25.0
POSTGRES_BATCH_VS_CEILING = 0.50


def cells() -> list[tuple[int, int, int]]:
    """(batch, connections, repeat) of every cell: the matrix, and each target cell's repeats."""
    matrix = {(batch, connections, 0) for batch in BATCHES for connections in CONNECTIONS}
    targets = {
        (batch, TARGET_CONNECTIONS, repeat)
        for batch in TARGET_BATCHES
        for repeat in range(TARGET_REPEATS)
    }
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
    repeat: int = 0

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

    def cell(self, system: str, batch: int, connections: int, repeat: int = 0) -> Cell | None:
        for cell in self.cells:
            if (cell.system, cell.batch, cell.connections, cell.repeat) == (
                system,
                batch,
                connections,
                repeat,
            ):
                return cell
        return None

    def ceiling(
        self, database: str, rows_per_commit: int, connections: int, repeat: int = 0
    ) -> Ceiling | None:
        for ceiling in self.ceilings:
            if (ceiling.database, ceiling.rows_per_commit, ceiling.connections, ceiling.repeat) == (
                database,
                rows_per_commit,
                connections,
                repeat,
            ):
                return ceiling
        return None

    def repeats(self, batch: int, connections: int) -> list[int]:
        """The rounds in which cells of this load were measured."""
        return sorted(
            {c.repeat for c in self.cells if (c.batch, c.connections) == (batch, connections)}
        )


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    met: bool | None  # None: a figure it needs was not measured

    @property
    def word(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]


Rate = Callable[[int], float | None]  # a figure of one round, if it was measured


def _cell_rates(run: Run, system: str, batch: int, connections: int) -> Rate:
    def rate(repeat: int) -> float | None:
        cell = run.cell(system, batch, connections, repeat)
        return None if cell is None else cell.load.contacts_per_second

    return rate


def _ceiling_rates(run: Run, database: str, rows_per_commit: int, connections: int) -> Rate:
    def rate(repeat: int) -> float | None:
        ceiling = run.ceiling(database, rows_per_commit, connections, repeat)
        return None if ceiling is None else ceiling.rows_per_second

    return rate


def _shown(ratio: float, percent: bool) -> str:
    return f"{ratio:.0%}" if percent else f"{ratio:.2f}x"


def _median_ratio(
    rounds: Sequence[int], ours: Rate, theirs: Rate, unit: str, percent: bool
) -> tuple[float, str] | None:
    """The median of the rounds' ratios, and every round's figures; None if none has both."""
    pairs = [
        (mine, other)
        for mine, other in ((ours(r), theirs(r)) for r in rounds)
        if mine is not None and other
    ]
    if not pairs:
        return None
    each = [
        f"{mine:,.0f} vs {other:,.0f} {unit}: {_shown(mine / other, percent)}"
        for mine, other in pairs
    ]
    middle = median(mine / other for mine, other in pairs)
    if len(pairs) == 1:
        return middle, each[0]
    return middle, f"median {_shown(middle, percent)} of {len(pairs)} rounds ({'; '.join(each)})"


def _versus(
    goal: str,
    rounds: Sequence[int],
    ours: Rate,
    theirs: Rate,
    unit: str,
    at_least: float,
    percent: bool,
) -> Verdict:
    found = _median_ratio(rounds, ours, theirs, unit, percent)
    if found is None:
        return Verdict(goal, "-", None)
    ratio, measured = found
    return Verdict(goal, measured, ratio >= at_least)


def _median_p99(run: Run, batch: int, connections: int) -> tuple[float, str] | None:
    """The median p99 of a SQLite cell over its rounds, and every round's."""
    loads = [
        cell.load
        for r in run.repeats(batch, connections)
        if (cell := run.cell(SQLITE, batch, connections, r)) is not None
    ]
    if not loads:
        return None
    p99s = [load.p99_ms for load in loads]
    if len(p99s) == 1:
        return p99s[0], f"p99 {p99s[0]:.1f} ms"
    listed = ", ".join(f"{p99:.1f}" for p99 in p99s)
    return median(p99s), f"median p99 {median(p99s):.1f} ms of {len(p99s)} rounds ({listed} ms)"


def verdicts(run: Run) -> list[Verdict]:
    n = TARGET_CONNECTIONS
    batch_rounds, single_rounds = run.repeats(100, n), run.repeats(1, n)
    sqlite_batch_cells = [c for c in run.cells if (c.system, c.batch) == (SQLITE, 100)]
    errors = sum(cell.errors for cell in sqlite_batch_cells)
    disagree = sum(not cell.count_agrees for cell in sqlite_batch_cells)
    p99 = _median_p99(run, 1, n)
    return [
        _versus(
            f"100-contact batches on SQLite, {n} connections: at least "
            f"{BATCH_VS_PEER:g}x Datasette",
            batch_rounds,
            _cell_rates(run, SQLITE, 100, n),
            _cell_rates(run, DATASETTE, 100, n),
            "contacts/s",
            BATCH_VS_PEER,
            percent=False,
        ),
        _versus(
            f"100-contact batches on SQLite, {n} connections: at least "
            f"{BATCH_VS_SQLITE_CEILING:.0%} of the raw SQLite ceiling (100 rows a commit)",
            batch_rounds,
            _cell_rates(run, SQLITE, 100, n),
            _ceiling_rates(run, "SQLite", 100, 1),
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
            single_rounds,
            _cell_rates(run, SQLITE, 1, n),
            _cell_rates(run, DATASETTE, 1, n),
            "contacts/s",
            SINGLE_VS_PEER,
            percent=False,
        ),
        Verdict(
            f"Single contacts on SQLite, {n} connections: p99 latency at most {SINGLE_P99_MS:g} ms",
            "-" if p99 is None else p99[1],
            None if p99 is None else p99[0] <= SINGLE_P99_MS,
        ),
        _versus(
            f"100-contact batches on PostgreSQL, {n} connections: at least "
            f"{POSTGRES_BATCH_VS_CEILING:.0%} of raw executemany at {n} connections",
            batch_rounds,
            _cell_rates(run, POSTGRES, 100, n),
            _ceiling_rates(run, "PostgreSQL", 100, n),
            "rows/s",
            POSTGRES_BATCH_VS_CEILING,
            percent=True,
        ),
    ]


def ratios(run: Run) -> list[tuple[int, list[str]]]:
    """Per connection count: the target comparisons, each the median of its rounds ('-': none)."""

    def share(ours: str, batch: int, connections: int, theirs: Rate, percent: bool) -> str:
        ours_rates = _cell_rates(run, ours, batch, connections)
        found = _median_ratio(run.repeats(batch, connections), ours_rates, theirs, "", percent)
        return "-" if found is None else _shown(found[0], percent)

    rows = []
    for n in sorted({*CONNECTIONS, TARGET_CONNECTIONS}):
        p99 = _median_p99(run, 1, n)
        rows.append(
            (
                n,
                [
                    share(SQLITE, 100, n, _cell_rates(run, DATASETTE, 100, n), percent=False),
                    share(SQLITE, 100, n, _ceiling_rates(run, "SQLite", 100, 1), percent=True),
                    share(SQLITE, 1, n, _cell_rates(run, DATASETTE, 1, n), percent=False),
                    "-" if p99 is None else f"{p99[0]:.1f}",
                    share(
                        POSTGRES, 100, n, _ceiling_rates(run, "PostgreSQL", 100, n), percent=True
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
