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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: list[str]
    contact: dict[str, str]


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


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the rows (with their line numbers) of a UTF-8 CSV, BOM or not."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        sample = file.read(_SNIFF_BYTES)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[tuple[int, list[str]]]:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file, dialect)
            next(reader, None)
            for values in reader:
                if any(value.strip() for value in values):
                    yield reader.line_num, values

    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file, dialect), None)
    if not header:
        raise ImportFileError(f"{path} has no header row")
    return header, rows()


def plan_import(
    path: Path,
    *,
    overrides: Mapping[str, str],
    default_region: str | None,
    on_duplicate: str,
) -> ImportPlan:
    """Check every row and cut the good ones into batches; nothing is sent."""
    headers, rows = read_csv(path)
    mapping, ignored = map_headers(headers, overrides)
    plan = ImportPlan(headers=headers, ignored_columns=ignored)
    first_line: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    # The n-th occurrence of a number goes to pass n, so that no batch holds a
    # number twice and, under "update", later rows update what earlier ones added.
    passes: list[list[Row]] = []
    for line, values in rows:
        plan.rows += 1
        contact = {
            name: values[index].strip()
            for index, name in mapping.items()
            if index < len(values) and (values[index].strip() or name in REQUIRED)
        }
        row = Row(line, values, contact)
        drafts, problems = parse_contact_batch([contact], default_region=default_region)
        if problems:
            plan.rejected.append((row, "; ".join(f"{p.field}: {p.msg}" for p in problems)))
            continue
        phone = drafts[0].phone_no
        occurrence = occurrences.get(phone, 0)
        if occurrence and on_duplicate == "error":
            plan.rejected.append((row, f"phone_no: repeats the number of line {first_line[phone]}"))
            continue
        if occurrence and on_duplicate == "skip":
            plan.skipped.append(row)
            continue
        first_line.setdefault(phone, line)
        occurrences[phone] = occurrence + 1
        while len(passes) <= occurrence:
            passes.append([])
        passes[occurrence].append(row)
    for number, rows_of_pass in enumerate(passes):
        for start in range(0, len(rows_of_pass), MAX_BATCH):
            plan.batches.append(rows_of_pass[start : start + MAX_BATCH])
            plan.pass_of_batch.append(number)
    return plan


def job_digest(path: Path, **options: Any) -> str:
    """Names one import job: the file's bytes and the options that shape its batches."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(repr(sorted(options.items())).encode())
    return digest.hexdigest()[:32]
