"""Commands that talk to a running server over HTTP, through `contacthub.client`.

`contacthub user add`, `contacthub import` and `contacthub export`: the same
operations as the API, for people at a terminal, so that nobody needs curl.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Literal, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from contacthub.cli import import_job
from contacthub.client import APIError, Contact, ContactHub, ContactHubError
from contacthub.domain.fields import FieldInvalid
from contacthub.domain.phones import normalise_region
from contacthub.imports import ImportFileError, Row, job_digest, plan_import
from contacthub.spreadsheet import inert_cell

users_app = typer.Typer(help="Manage the users of an app, through a running server.")
errors = Console(stderr=True)

Url = Annotated[str, typer.Option("--url", help="The server, e.g. http://127.0.0.1:8000")]
Token = Annotated[str | None, typer.Option("--token", help="A login token.")]
UserId = Annotated[
    str | None, typer.Option("--user-id", help="Log in as this user (<extension>_<appid>).")
]
Password = Annotated[str | None, typer.Option("--password", help="The user's password.")]
EXPORT_COLUMNS = [field.name for field in fields(Contact)]


@contextmanager
def _client(url: str) -> Iterator[ContactHub]:
    """A client whose failures end the command with the server's own words."""
    try:
        with ContactHub(url) as hub:
            yield hub
    except APIError as error:
        details = "".join(f"\n  {problem}" for problem in getattr(error, "errors", []))
        errors.print(f"[bold red]error:[/] {error.status_code} {error.msg}{details}")
        raise typer.Exit(code=1) from None
    except ContactHubError as error:
        errors.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(code=1) from None


def _log_in(hub: ContactHub, token: str | None, user_id: str | None, password: str | None) -> None:
    if token:
        hub.token = token
    elif user_id and password:
        hub.login(user_id, password)
    else:
        errors.print("[bold red]error:[/] give --token, or --user-id and --password")
        raise typer.Exit(code=2)


@users_app.command("add")
def user_add(
    *,
    url: Url,
    appid: Annotated[int, typer.Option("--appid", help="The app's id.")],
    secret: Annotated[str, typer.Option("--secret", help="The app's secret.")],
    extension: Annotated[int, typer.Option("--extension", help="1 to 99999.")],
    name: Annotated[str, typer.Option("--name", help="The user's name.")],
    phone: Annotated[str, typer.Option("--phone", help="The user's phone number.")],
    password: Annotated[str, typer.Option("--password", help="At least 8 characters.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the new user as JSON.")] = False,
) -> None:
    """Add a user to an app (POST /v2/user/add) and print its user id."""
    with _client(url) as hub:
        added = hub.add_user(
            appid, secret, extension=extension, name=name, phone_number=phone, password=password
        )
    if as_json:
        typer.echo(json.dumps(asdict(added)))
    else:
        typer.echo(f"Added user {added.name}: log in as {added.agent_id}")


def export(
    *,
    url: Url,
    token: Token = None,
    user_id: UserId = None,
    password: Password = None,
    output_format: Annotated[
        Literal["csv", "jsonl"], typer.Option("--format", help="csv or jsonl.")
    ] = "csv",
    search: Annotated[
        str | None, typer.Option("--search", help="Only contacts matching this search.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Stream every contact of the organization (or a search's matches) as CSV or JSON lines."""
    with _client(url) as hub:
        _log_in(hub, token, user_id, password)
        target = _private_file(output) if output else sys.stdout
        try:
            written = _write_contacts(hub.iter_contacts(search=search), output_format, target)
        finally:
            if output:
                target.close()
    errors.print(f"Exported {written} contacts" + (f" to {output}" if output else ""))


def _private_file(path: Path) -> TextIO:
    """`path` opened to be written from its start, readable by its owner only (an older file too).

    An export holds the whole organization's contacts.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "w", newline="", encoding="utf-8")


def _write_contacts(contacts: Iterator[Contact], output_format: str, target: TextIO) -> int:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.completed} contacts"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    writer = csv.DictWriter(target, fieldnames=EXPORT_COLUMNS) if output_format == "csv" else None
    if writer:
        writer.writeheader()
    written = 0
    with progress:
        task = progress.add_task("export")
        for contact in contacts:
            row = asdict(contact)
            if writer:
                # Opened in a spreadsheet, no value may run as a formula.
                writer.writerow({name: inert_cell(value) for name, value in row.items()})
            else:
                target.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
            progress.advance(task)
    return written


def import_contacts(
    file: Annotated[Path, typer.Argument(help="A CSV file with a header row.", exists=True)],
    *,
    url: Url,
    token: Token = None,
    user_id: UserId = None,
    password: Password = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help='"Header=field" for a column the aliases miss; repeatable.'),
    ] = None,
    on_duplicate: Annotated[
        Literal["error", "skip", "update"],
        typer.Option("--on-duplicate", help="What to do with numbers already stored."),
    ] = "error",
    default_region: Annotated[
        str | None,
        typer.Option(
            "--default-region",
            help="Your app's default region (e.g. IN), so local checks read national numbers "
            "as the server will.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; send nothing.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted import of this file.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Batches in flight at once.", min=1, max=16)] = 4,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    """Import contacts from a CSV: checked locally, sent 100 at a time, resumable."""
    overrides = _parse_map(mapping or [])
    try:
        region = normalise_region(default_region) if default_region else None
        plan = plan_import(
            file, overrides=overrides, default_region=region, on_duplicate=on_duplicate
        )
    except (ImportFileError, FieldInvalid, UnicodeDecodeError, csv.Error) as error:
        errors.print(f"[bold red]error:[/] {getattr(error, 'msg', error)}")
        raise typer.Exit(code=2) from None
    if plan.ignored_columns:
        errors.print(f"Ignoring columns: {', '.join(plan.ignored_columns)}")
    rejected_path = file.with_name(file.name + ".rejected.csv")
    if dry_run:
        to_send = sum(len(batch) for batch in plan.batches)
        summary = import_job.Summary(skipped=len(plan.skipped), rejected=plan.rejected)
        _write_rejected(rejected_path, plan.headers, summary.rejected)
        _report({"to_send": to_send, **summary.as_dict()}, rejected_path, summary, as_json)
        return

    job = job_digest(file, overrides=overrides, region=region, on_duplicate=on_duplicate)
    checkpoint = import_job.Checkpoint(file.with_name(file.name + ".checkpoint"), job)
    finished = _finished_batches(checkpoint, resume)
    with _client(url) as hub:
        _log_in(hub, token, user_id, password)
        with _progress() as progress:
            task = progress.add_task("importing", total=plan.rows)
            progress.advance(task, len(plan.rejected) + len(plan.skipped))
            progress.advance(task, sum(import_job.batch_sizes(plan, finished)))
            summary = import_job.run(
                hub,
                plan,
                on_duplicate=on_duplicate,
                checkpoint=checkpoint,
                finished=finished,
                workers=workers,
                on_progress=lambda rows: progress.advance(task, rows),
            )
    _write_rejected(rejected_path, plan.headers, summary.rejected)
    checkpoint.path.unlink()
    _report(summary.as_dict(), rejected_path, summary, as_json)


def _parse_map(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        header, sep, target = pair.rpartition("=")
        if not sep or not header.strip():
            errors.print(f'[bold red]error:[/] --map wants "Header=field", not {pair!r}')
            raise typer.Exit(code=2)
        overrides[header.strip()] = target.strip()
    return overrides


def _finished_batches(
    checkpoint: import_job.Checkpoint, resume: bool
) -> list[import_job.BatchOutcome]:
    exists = checkpoint.path.exists()
    if exists and not resume:
        errors.print(
            f"[bold red]error:[/] an unfinished import of this file left {checkpoint.path}: "
            "finish it with --resume (or delete that file to start over)"
        )
        raise typer.Exit(code=2)
    if not exists:
        checkpoint.start()
        return []
    try:
        return checkpoint.load()
    except ValueError as error:
        errors.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(code=2) from None


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} rows/s" if task.speed else "")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def _write_rejected(path: Path, headers: list[str], rejected: list[tuple[Row, str]]) -> None:
    if not rejected:
        path.unlink(missing_ok=True)
        return
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([inert_cell(cell) for cell in ["line", "reason", *headers]])
        for row, reason in rejected:
            writer.writerow([inert_cell(cell) for cell in [row.line, reason, *row.values]])


def _report(
    figures: dict[str, int], rejected_path: Path, summary: import_job.Summary, as_json: bool
) -> None:
    if as_json:
        typer.echo(json.dumps(figures))
        return
    for name, value in figures.items():
        typer.echo(f"{name.replace('_', ' '):>9}: {value}")
    if summary.rejected:
        typer.echo(f"Rejected rows, with their line and reason: {rejected_path}")
