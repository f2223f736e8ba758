"""A CSV import from the dashboard: the tally, and adding one batch through the API's service.

Rows go through the same checks and the same `services.contacts.add` as
`v3/contact/add`, one transaction per batch of 100. Numbers already stored, or
repeated in the file, are counted as duplicates and left as they are
(`on_duplicate: "skip"`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from contacthub.domain.contacts import parse_new_contacts
from contacthub.domain.users import Principal
from contacthub.edge.context import AppContext
from contacthub.errors import InvalidRequest
from contacthub.imports import ImportPlan, Row
from contacthub.services import contacts as contacts_service


@dataclass
class ImportTally:
    headers: list[str]
    total_rows: int
    done_rows: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[Row, str]] = field(default_factory=list)

    @classmethod
    def of(cls, plan: ImportPlan) -> ImportTally:
        """The tally before any batch is sent: rows decided while planning are done already."""
        return cls(
            headers=plan.headers,
            total_rows=plan.rows,
            done_rows=len(plan.rejected) + len(plan.skipped),
            duplicates=len(plan.skipped),
            rejected=list(plan.rejected),
        )

    def rejected_csv(self) -> str:
        """The rejected rows as they were in the file, after their line number and reason."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "reason", *self.headers])
        for row, reason in sorted(self.rejected, key=lambda item: item[0].line):
            writer.writerow([row.line, reason, *row.values])
        return out.getvalue()


async def add_batch(
    tally: ImportTally, rows: list[Row], context: AppContext, principal: Principal
) -> None:
    # The plan checked every row with the same rules already; should the service
    # still refuse some, they are set aside and the rest sent again, as
    # `contacthub import` does.
    while rows:
        body = {"contacts": [row.contact for row in rows], "on_duplicate": "skip"}
        try:
            command = parse_new_contacts(body, default_region=principal.default_region)
            added = await contacts_service.add_contacts(context, principal, command)
        except InvalidRequest as error:
            refused = {p.index: f"{p.field}: {p.msg}" for p in error.problems}
            if None in refused:
                raise
            tally.rejected += [(row, refused[i]) for i, row in enumerate(rows) if i in refused]
            tally.done_rows += len(refused)
            rows = [row for i, row in enumerate(rows) if i not in refused]
            continue
        statuses = [entry["status"] for entry in added.entries]
        tally.added += statuses.count("created")
        tally.duplicates += statuses.count("skipped")
        tally.done_rows += len(rows)
        return
