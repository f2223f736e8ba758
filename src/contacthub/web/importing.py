"""A CSV import from the dashboard: the uploaded file read, checked and added 100 rows at a time.

Rows go through the same checks and the same `services.contacts.add` as
`v3/contact/add`, one transaction per batch of 100. Nothing holds more than
one batch of the file: its rows are read and checked (at most READ_ROWS rows
and READ_CHARS of text, rejected ones included), its good rows sent and its
rejected rows written to a file kept for download (web/rejected.py), before
the next rows are read. Numbers already stored are counted as duplicates and left
as they are (`on_duplicate: "skip"`); a number repeated within one batch is
counted so before the batch is sent, and across batches the server's skip
does the same.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from contacthub.domain.contacts import MAX_BATCH, parse_new_contacts
from contacthub.domain.users import Principal
from contacthub.edge.context import AppContext
from contacthub.errors import InvalidRequest
from contacthub.imports import (
    BatchSending,
    Row,
    check_row,
    map_headers,
    read_rows,
    reasons_by_index,
)
from contacthub.services import contacts as contacts_service

SHOWN_REJECTED = 100  # rejected rows listed on the page; the download holds them all
# The most rows, and row text, read before their batch is sent (a batch of good rows
# ends it sooner): the import's working set.
READ_ROWS = 1000
READ_CHARS = 1 << 20


class ImportSlots:
    """How many imports this process runs at once: beyond `limit`, an import is turned away."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    def take(self) -> bool:
        # The event loop runs one coroutine at a time: no lock is needed.
        if self.running >= self.limit:
            return False
        self.running += 1
        return True

    def give_back(self) -> None:
        self.running -= 1


@dataclass
class ImportTally:
    total_rows: int
    done_rows: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    # The first SHOWN_REJECTED rejected rows: (line, reason).
    shown: list[tuple[int, str]] = field(default_factory=list)
    rejected_link: str | None = None
    rejected_not_kept: int = 0

    @property
    def rejected_not_shown(self) -> int:
        return self.rejected - len(self.shown)


def _text(upload: IO[bytes]) -> io.TextIOWrapper:
    upload.seek(0)
    return io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")


class UploadedCsv:
    """The uploaded file, read once to count its rows and decode every byte, then batch by batch.

    The counting pass refuses a file that is not UTF-8, or has no header, before
    anything is added; it holds one row at a time.
    """

    def __init__(self, upload: IO[bytes], name: str, default_region: str | None) -> None:
        text = _text(upload)
        try:
            headers, rows = read_rows(text, name)
            self.total_rows = sum(1 for _ in rows)
        finally:
            text.detach()  # the upload is Starlette's to close, not this wrapper's
        self.headers = headers
        self.mapping, _ignored = map_headers(headers, {})
        self.default_region = default_region
        self._text = _text(upload)
        _headers, self._rows = read_rows(self._text, name)

    def next_rows(self) -> list[tuple[Row, str]]:
        """The next rows, each with why it is rejected ("" when it is not): up to a batch of good
        rows, ending sooner at READ_ROWS rows or READ_CHARS of text, so that a file of mostly
        rejected rows is still sent in few transactions and held a little at a time."""
        checked: list[tuple[Row, str]] = []
        good = chars = 0
        for line, values in self._rows:
            row, reason = check_row(line, values, self.mapping, self.default_region)
            checked.append((row, reason))
            good += not reason
            chars += sum(len(value) for value in values)
            if good == MAX_BATCH or len(checked) == READ_ROWS or chars >= READ_CHARS:
                break
        return checked

    def close(self) -> None:
        self._text.detach()


def unique_numbers(rows: list[Row]) -> Iterator[Row]:
    """The rows whose number no earlier row of `rows` has."""
    seen: set[str] = set()
    for row in rows:
        if row.phone not in seen:
            seen.add(row.phone)
            yield row


async def add_batch(
    tally: ImportTally, rows: list[Row], context: AppContext, principal: Principal
) -> list[tuple[Row, str]]:
    """Add the rows (numbers all different), counting them; the rows the service refused.

    The rows were checked with the same rules already; should the service
    still refuse some, they are set aside and the rest sent again, as
    `contacthub import` does.
    """
    sending = BatchSending(rows)
    while sending.rows:
        body = {"contacts": [row.contact for row in sending.rows], "on_duplicate": "skip"}
        try:
            command = parse_new_contacts(body, default_region=principal.default_region)
            added = await contacts_service.add_contacts(context, principal, command)
        except InvalidRequest as error:
            reasons = reasons_by_index((p.index, p.field, p.msg) for p in error.problems)
            if reasons is None:
                raise
            sending.set_aside(reasons)
            continue
        statuses = [entry["status"] for entry in added.entries]
        tally.added += statuses.count("created")
        tally.duplicates += statuses.count("skipped")
        break
    return sending.refused
