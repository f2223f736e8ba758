"""Sending an import plan: concurrent batches, an exact tally, and a checkpoint to resume from.

Batch `i` of a run is always sent with the Idempotency-Key `<run>.<i>.<try>`
(`run` is drawn at random when an import starts and kept in the checkpoint;
`try` counts the resends after rows were refused). After a crash the same
plan is formed again, finished batches are read from the checkpoint, and any
batch that was in flight is sent again with the same key: if the server had
stored it, it answers the first answer again and writes nothing. A new run of
the same file draws a new `run`, so it is judged afresh, not replayed.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contacthub.client import ContactHub, DuplicateError, ValidationError
from contacthub.imports import BatchSending, ImportPlan, Row, reasons_by_index


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[tuple[Row, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": len(self.rejected),
        }


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    batch: int
    added: int
    updated: int
    skipped: int
    rejected: list[tuple[int, str]]  # (line, reason)


def send_batch(
    hub: ContactHub, run: str, number: int, rows: list[Row], on_duplicate: str
) -> BatchOutcome:
    """Send one batch; rows the server refuses are set aside and the rest sent again."""
    sending = BatchSending(rows)
    while sending.rows:
        rows = sending.rows
        try:
            result = hub.add_contacts(
                [row.contact for row in rows],
                on_duplicate=on_duplicate,  # type: ignore[arg-type]
                idempotency_key=f"{run}.{number}.{sending.attempt}",
            )
        except DuplicateError as error:
            sending.set_aside(
                {
                    d.index: _duplicate_reason(d.contact_id, d.duplicate_of_index, rows)
                    for d in error.duplicates
                }
            )
        except ValidationError as error:
            reasons = reasons_by_index((p.index, p.field, p.msg) for p in error.errors)
            if reasons is None:
                raise
            sending.set_aside(reasons)
        else:
            statuses = [entry.status for entry in result.contacts]
            return BatchOutcome(
                number,
                statuses.count("created"),
                statuses.count("updated"),
                statuses.count("skipped"),
                _lines(sending.refused),
            )
    return BatchOutcome(number, 0, 0, 0, _lines(sending.refused))


def _lines(refused: list[tuple[Row, str]]) -> list[tuple[int, str]]:
    return [(row.line, reason) for row, reason in refused]


def _duplicate_reason(contact_id: str | None, earlier: int | None, rows: list[Row]) -> str:
    if contact_id is not None:
        return f"phone_no: already stored as contact {contact_id}"
    assert earlier is not None
    return f"phone_no: repeats the number of line {rows[earlier].line}"


class Checkpoint:
    """An append-only record of finished batches, one JSON line each, flushed to disk."""

    def __init__(self, path: Path, job: str) -> None:
        self.path = path
        self.job = job
        self.run = ""
        self.recorded = 0  # batches recorded by this process
        self._lock = threading.Lock()

    def load(self) -> list[BatchOutcome]:
        """The finished batches of this run; a torn last line (a crash mid-write) is ignored."""
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            header = {}
        if header.get("job") != self.job:
            raise ValueError(f"{self.path} belongs to another import (a different file or options)")
        self.run = header["run"]
        outcomes = []
        for line in lines[1:]:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            record["rejected"] = [tuple(item) for item in record["rejected"]]
            outcomes.append(BatchOutcome(**record))
        return outcomes

    def start(self) -> None:
        self.run = secrets.token_hex(8)
        self._append({"job": self.job, "run": self.run})

    def record(self, outcome: BatchOutcome) -> None:
        self.recorded += 1
        self._append(
            {
                "batch": outcome.batch,
                "added": outcome.added,
                "updated": outcome.updated,
                "skipped": outcome.skipped,
                "rejected": outcome.rejected,
            }
        )

    def _append(self, record: dict[str, Any]) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")
            file.flush()
            os.fsync(file.fileno())


def run(
    hub: ContactHub,
    plan: ImportPlan,
    *,
    on_duplicate: str,
    checkpoint: Checkpoint,
    finished: list[BatchOutcome],
    workers: int,
    on_progress: Callable[[int], None],
) -> Summary:
    """Send every batch not yet finished, `workers` at a time; tally all of them."""
    by_line = {row.line: row for batch in plan.batches for row in batch}
    done = {outcome.batch for outcome in finished}
    outcomes = list(finished)

    def send(item: tuple[int, list[Row]]) -> BatchOutcome:
        number, rows = item
        outcome = send_batch(hub, checkpoint.run, number, rows, on_duplicate)
        checkpoint.record(outcome)
        on_progress(len(rows))
        return outcome

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for current_pass in sorted(set(plan.pass_of_batch)):
            pending = [
                (number, rows)
                for number, rows in enumerate(plan.batches)
                if number not in done and plan.pass_of_batch[number] == current_pass
            ]
            outcomes += list(pool.map(send, pending))

    summary = Summary(skipped=len(plan.skipped), rejected=list(plan.rejected))
    for outcome in outcomes:
        summary.added += outcome.added
        summary.updated += outcome.updated
        summary.skipped += outcome.skipped
        summary.rejected += [(by_line[line], reason) for line, reason in outcome.rejected]
    summary.rejected.sort(key=lambda item: item[0].line)
    return summary


def batch_sizes(plan: ImportPlan, finished: list[BatchOutcome]) -> Iterator[int]:
    done = {outcome.batch for outcome in finished}
    return (len(rows) for number, rows in enumerate(plan.batches) if number in done)
