"""Reading a contacts CSV and deciding, before anything is sent, what becomes of each row.

Each row is checked with the server's own domain rules, so that a file's
mistakes are found locally and reported by line. Rows are then cut into
batches in a fixed order, so that a resumed import forms the same batches
and, sending each with the same Idempotency-Key, can never add a row twice.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from contacthub.domain.contacts import CONTACT_FIELDS, MAX_BATCH, parse_contact_batch

REQUIRED = ("phone_no", "first_name", "last_name")
# Header spellings seen in spreadsheets and CRM exports, compared after folding
# case and treating '_', '-' and repeated spaces as one space.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "phone_no": ("phone no", "phone", "phone number", "mobile", "mobile number", "mobile phone",
                 "cell", "cell phone", "telephone", "tel", "msisdn", "contact number"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "email_id": ("email id", "email", "e mail", "email address", "e mail address", "mail"),
    "company": ("company", "company name", "organization", "organisation", "employer"),
    "job_title": ("job title", "title", "position", "role", "designation"),
}  # fmt: skip
DELIMITERS = ",;\t|"
_SAMPLE_CHARS = 64 * 1024
# Twice csv's own limit on one field: a row of more is no contact, and splitting
# it could cost a list of a million fields.
MAX_ROW_CHARS = 256 * 1024


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: list[str]
    contact: dict[str, str]
    phone: str = ""  # the number as stored, once the row is checked and good


@dataclass
class ImportPlan:
    """Batches to send, in order, and the rows decided locally."""

    headers: list[str]
    batches: list[list[Row]] = field(default_factory=list)
    # Batches of a later pass hold later occurrences of numbers sent before:
    # they go only after every batch of the pass before them has finished.
    pass_of_batch: list[int] = field(default_factory=list)
    rejected: list[tuple[Row, str]] = field(default_factory=list)
    skipped: list[Row] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, a required column missing...).

    `str()` ends with what to do about it with `contacthub import`'s flags;
    `problem` is the message alone, for the dashboard, which has no flags.
    """

    def __init__(self, problem: str, cli_hint: str = "") -> None:
        super().__init__(f"{problem}; {cli_hint}" if cli_hint else problem)
        self.problem = problem


def _fold(header: str) -> str:
    return re.sub(r"[\s_\-]+", " ", header.strip().casefold()).strip()


def map_headers(
    headers: list[str], overrides: Mapping[str, str]
) -> tuple[dict[int, str], list[str]]:
    """Column index → contact field, and the headers left unused.

    `overrides` maps a header, as written in the file, to a field (`--map`).
    """
    for target in overrides.values():
        if target not in CONTACT_FIELDS:
            raise ImportFileError(f"--map names {target!r}, not one of {', '.join(CONTACT_FIELDS)}")
    folded_overrides = {_fold(header): target for header, target in overrides.items()}
    by_alias = {_fold(alias): name for name, aliases in ALIASES.items() for alias in aliases}
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        chosen = folded_overrides.get(_fold(header)) or by_alias.get(_fold(header))
        if chosen is None or chosen in mapping.values():
            ignored.append(header)
            continue
        mapping[index] = chosen
    missing = [name for name in REQUIRED if name not in mapping.values()]
    if missing:
        raise ImportFileError(
            f"no column for {', '.join(missing)} (headers: {', '.join(headers)})",
            cli_hint='name one with --map "Header=field"',
        )
    return mapping, ignored


def detect_delimiter(sample: str) -> str:
    """The candidate seen most often outside quotes in the header line of `sample` (`,` if none).

    One pass, linear in the sample, which callers bound: csv.Sniffer's regular
    expressions took 14 s of the interpreter over a crafted 64 KiB header.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in sample:
        if char == '"':
            quoted = not quoted  # a doubled quote inside quotes toggles twice
        elif quoted:
            continue
        elif char in "\r\n":
            break
        elif char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)  # on a tie, the first: ','
    return best if counts[best] else ","


def read_rows(text: TextIO, name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the non-blank rows (with their line numbers) of a CSV text stream.

    `text` is read from its start; the delimiter is chosen from its first
    64 KiB. A row (its lines together) longer than MAX_ROW_CHARS is refused
    before it is split, so that no row costs more memory than that.
    """
    delimiter = detect_delimiter(text.read(_SAMPLE_CHARS))
    text.seek(0)
    left = MAX_ROW_CHARS
    line_number = 0

    def lines() -> Iterator[str]:
        nonlocal left, line_number
        while line := text.readline(MAX_ROW_CHARS + 1):
            line_number += 1
            left -= len(line)
            if left < 0:
                raise ImportFileError(
                    f"{name}: the row at line {line_number} is longer than "
                    f"{MAX_ROW_CHARS // 1024} KiB"
                )
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, skipinitialspace=True)
    header = next(reader, None)
    if not header:
        raise ImportFileError(f"{name} has no header row")

    def rows() -> Iterator[tuple[int, list[str]]]:
        nonlocal left
        while True:
            left = MAX_ROW_CHARS
            values = next(reader, None)
            if values is None:
                return
            if any(value.strip() for value in values):
                yield reader.line_num, values

    return header, rows()


def check_row(
    line: int, values: list[str], mapping: Mapping[int, str], default_region: str | None
) -> tuple[Row, str]:
    """The row, with its contact and normalised number, and why it is refused ("" if it is not)."""
    contact = {
        name: values[index].strip()
        for index, name in mapping.items()
        if index < len(values) and (values[index].strip() or name in REQUIRED)
    }
    drafts, problems = parse_contact_batch([contact], default_region=default_region)
    if problems:
        return Row(line, values, contact), "; ".join(f"{p.field}: {p.msg}" for p in problems)
    return Row(line, values, contact, drafts[0].phone_no), ""


def plan_import(
    path: Path,
    *,
    overrides: Mapping[str, str],
    default_region: str | None,
    on_duplicate: str,
) -> ImportPlan:
    """Check every row and cut the good ones into batches; nothing is sent."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        headers, rows = read_rows(file, str(path))
        mapping, ignored = map_headers(headers, overrides)
        plan = ImportPlan(headers=headers, ignored_columns=ignored)
        # The n-th occurrence of a number goes to pass n, so that no batch holds a
        # number twice and, under "update", later rows update what earlier ones added.
        passes: list[list[Row]] = []
        first_line: dict[str, int] = {}
        occurrences: dict[str, int] = {}
        for line, values in rows:
            plan.rows += 1
            row, reason = check_row(line, values, mapping, default_region)
            if reason:
                plan.rejected.append((row, reason))
                continue
            occurrence = occurrences.get(row.phone, 0)
            if occurrence and on_duplicate == "error":
                reason = f"phone_no: repeats the number of line {first_line[row.phone]}"
                plan.rejected.append((row, reason))
                continue
            if occurrence and on_duplicate == "skip":
                plan.skipped.append(row)
                continue
            first_line.setdefault(row.phone, line)
            occurrences[row.phone] = occurrence + 1
            while len(passes) <= occurrence:
                passes.append([])
            passes[occurrence].append(row)
    for number, rows_of_pass in enumerate(passes):
        for start in range(0, len(rows_of_pass), MAX_BATCH):
            plan.batches.append(rows_of_pass[start : start + MAX_BATCH])
            plan.pass_of_batch.append(number)
    return plan


class BatchSending:
    """One batch on its way to the server, whoever sends it (`contacthub import` over HTTP,
    the dashboard through the service): the rows still to send, and those set aside.

    The rows passed the same checks locally, but the server may still refuse some
    (a number stored since, a rule it applies with stored data). Those are set aside
    with their reason and the rest sent again, until the server takes them all.
    """

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.refused: list[tuple[Row, str]] = []
        self.attempt = 0  # how many times rows were set aside: part of a resend's key

    def set_aside(self, reasons: Mapping[int, str]) -> None:
        """Take out the rows at these indexes of `rows`, with their reasons."""
        self.refused += [(self.rows[index], reason) for index, reason in sorted(reasons.items())]
        self.rows = [row for index, row in enumerate(self.rows) if index not in reasons]
        self.attempt += 1


def reasons_by_index(problems: Iterable[tuple[int | None, str, str]]) -> dict[int, str] | None:
    """(index, field, message) problems as one reason per batch element; None when one of
    them is about the request as a whole, not an element."""
    reasons: dict[int, str] = {}
    for index, field_name, message in problems:
        if index is None:
            return None
        reason = f"{field_name}: {message}"
        reasons[index] = f"{reasons[index]}; {reason}" if index in reasons else reason
    return reasons


def job_digest(path: Path, **options: Any) -> str:
    """Names one import job: the file's bytes and the options that shape its batches."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(repr(sorted(options.items())).encode())
    return digest.hexdigest()[:32]
