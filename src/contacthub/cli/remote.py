"""Commands that talk to a running server over HTTP, through `contacthub.client`.

`contacthub user add`, `login`, `import` and `export`: the same operations as
the API, for people at a terminal, so that nobody needs curl. The server's URL
comes from --url or CONTACTHUB_URL, the token from --token or CONTACTHUB_TOKEN
(or a login with --user-id); a password not given is asked for at a terminal,
so that it stays out of the shell's history. Failures are worded by
cli/failures.py.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Literal, TextIO

import httpx
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

from contacthub.cli import failures, import_job
from contacthub.cli.failures import URL_ENV, usage
from contacthub.client import AuthError, Contact, ContactHub, ContactHubError, ValidationError
from contacthub.domain.fields import FieldInvalid
from contacthub.domain.phones import normalise_region
from contacthub.imports import ImportFileError, ImportPlan, Row, job_digest, plan_import
from contacthub.spreadsheet import inert_cell

TOKEN_ENV = "CONTACTHUB_TOKEN"  # noqa: S105  (a variable's name, not a secret)
DEFAULT_URL = "http://127.0.0.1:8000"

errors = Console(stderr=True)

Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help=f"The server, e.g. {DEFAULT_URL} [env: {URL_ENV}]",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option("--token", metavar="TOKEN", help=f"A login token [env: {TOKEN_ENV}]."),
]
UserId = Annotated[
    str | None,
    typer.Option(
        "--user-id",
        metavar="ID",
        help="Log in as this user (<extension>_<appid>) instead of using a token.",
    ),
]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        metavar="PASSWORD",
        help="The user's password; asked for (hidden) when left out at a terminal.",
    ),
]
EXPORT_COLUMNS = [field.name for field in fields(Contact)]
# The API's names of a new user's fields, and the flags of `user add` that give them.
USER_FLAGS = {
    "appid": "--appid",
    "secret": "--secret",
    "extension": "--extension",
    "name": "--name",
    "phone_number": "--phone",
    "password": "--password",
}


def server_url(flag: str | None, default: str | None = None) -> str:
    """The server's base URL: --url, else CONTACTHUB_URL, else `default`; http(s) only."""
    source, value = ("--url", flag) if flag else (URL_ENV, os.environ.get(URL_ENV) or default)
    if not value:
        raise usage("no server URL", f"give --url or set {URL_ENV}, e.g. {DEFAULT_URL}")
    try:
        parsed = httpx.URL(value)
    except httpx.InvalidURL as error:
        raise usage(f"{source} {value!r} is not a URL: {error}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise usage(f"{source} {value!r} is not an http:// or https:// URL", f"e.g. {DEFAULT_URL}")
    return value


def region_flag(value: str | None) -> str | None:
    try:
        return normalise_region(value) if value else None
    except FieldInvalid as error:
        raise usage(f"--default-region: {error.msg}", "e.g. IN or US") from None


def ask_password(flag: str | None, *, for_what: str, new: bool = False) -> str:
    """The password given, else asked for (hidden) at a terminal; never read from a pipe."""
    if flag is not None:
        return flag
    if not (sys.stdin and sys.stdin.isatty()):
        raise usage(
            f"no password for {for_what}, and standard input is not a terminal to ask for it",
            "give --password, or run the command at a terminal",
        )
    answer: str = typer.prompt(
        f"Password for {for_what}", hide_input=True, confirmation_prompt=new, err=True
    )
    return answer


def _log_in(hub: ContactHub, token: str | None, user_id: str | None, password: str | None) -> None:
    """--token, else a login as --user-id, else CONTACTHUB_TOKEN: a flag beats the environment."""
    if token and user_id:
        raise usage("both --token and --user-id given", "give one of them")
    if user_id:
        hub.login(user_id, ask_password(password, for_what=user_id))
        return
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise usage(
            "not logged in", f"give --token, or --user-id and its password, or set {TOKEN_ENV}"
        )
    hub.token = token


def login(
    *,
    url: Url = None,
    user_id: Annotated[
        str, typer.Option("--user-id", metavar="ID", help="The user (<extension>_<appid>).")
    ],
    password: Password = None,
) -> None:
    """Log in and print a new token, for --token or CONTACTHUB_TOKEN."""
    with ContactHub(server_url(url)) as hub:
        token = hub.login(user_id, ask_password(password, for_what=user_id))
    typer.echo(token)


def user_add(
    *,
    url: Url = None,
    appid: Annotated[int, typer.Option("--appid", metavar="APPID", help="The app's id.")],
    secret: Annotated[str, typer.Option("--secret", metavar="SECRET", help="The app's secret.")],
    extension: Annotated[int, typer.Option("--extension", metavar="N", help="1 to 99999.")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The user's name.")],
    phone: Annotated[
        str, typer.Option("--phone", metavar="PHONE", help="The user's phone number.")
    ],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            metavar="PASSWORD",
            help="At least 8 characters; asked for (hidden, twice) when left out at a terminal.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the new user as JSON.")] = False,
) -> None:
    """Add a user to an app (POST /v2/user/add) and print its user id."""
    with ContactHub(server_url(url)) as hub:
        new_password = ask_password(password, for_what="the new user", new=True)
        try:
            added = hub.add_user(
                appid,
                secret,
                extension=extension,
                name=name,
                phone_number=phone,
                password=new_password,
            )
        except ValidationError as error:
            problems = ((problem.field, problem.msg) for problem in error.errors)
            raise failures.invalid_fields(
                "the server refused the new user", problems, USER_FLAGS
            ) from None
    if as_json:
        typer.echo(json.dumps(asdict(added)))
    else:
        typer.echo(f"Added user {added.name}: log in as {added.agent_id}")


def export(
    *,
    url: Url = None,
    token: Token = None,
    user_id: UserId = None,
    password: Password = None,
    output_format: Annotated[
        Literal["csv", "jsonl"], typer.Option("--format", help="csv or jsonl.")
    ] = "csv",
    search: Annotated[
        str | None,
        typer.Option("--search", metavar="TEXT", help="Only contacts matching this search."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="Write here instead of standard output."
        ),
    ] = None,
) -> None:
    """Stream every contact of the organization (or a search's matches) as CSV or JSON lines."""
    with ContactHub(server_url(url)) as hub:
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
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise usage(f"cannot write {path}: {error.strerror}", "check -o") from None
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "w", newline="", encoding="utf-8")


def _write_contacts(contacts: Iterator[Contact], output_format: str, target: TextIO) -> int:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.completed} contacts"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
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
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A CSV file with a header row.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    *,
    url: Url = None,
    token: Token = None,
    user_id: UserId = None,
    password: Password = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="HEADER=FIELD",
            help='"Header=field" for a column the aliases miss; repeatable.',
        ),
    ] = None,
    on_duplicate: Annotated[
        Literal["error", "skip", "update"],
        typer.Option("--on-duplicate", help="What to do with numbers already stored."),
    ] = "error",
    default_region: Annotated[
        str | None,
        typer.Option(
            "--default-region",
            metavar="CC",
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
    workers: Annotated[
        int, typer.Option(metavar="N", help="Batches in flight at once.", min=1, max=16)
    ] = 4,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    """Import contacts from a CSV: checked locally, sent 100 at a time, resumable."""
    overrides = _parse_map(mapping or [])
    region = region_flag(default_region)
    plan = _plan(file, overrides, region, on_duplicate)
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
    resuming = _resuming(checkpoint, resume)
    with ContactHub(server_url(url)) as hub:
        # Logged in before the checkpoint is made: a refused login leaves nothing to resume.
        _log_in(hub, token, user_id, password)
        finished = _finished_batches(checkpoint, resuming)
        try:
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
        except ContactHubError as error:
            if isinstance(error, AuthError) and not resuming and not checkpoint.recorded:
                # Refused before any batch was stored: nothing to resume.
                checkpoint.path.unlink()
                raise
            raise failures.describe(error).also(
                f"the batches sent are recorded in {checkpoint.path}: "
                "run the same command with --resume to finish"
            ) from None
    _write_rejected(rejected_path, plan.headers, summary.rejected)
    checkpoint.path.unlink()
    _report(summary.as_dict(), rejected_path, summary, as_json)


def _plan(
    file: Path, overrides: dict[str, str], region: str | None, on_duplicate: str
) -> ImportPlan:
    """The file checked row by row; a file that cannot be read as CSV is bad input."""
    try:
        return plan_import(
            file, overrides=overrides, default_region=region, on_duplicate=on_duplicate
        )
    except ImportFileError as error:
        raise usage(str(error)) from None
    except UnicodeDecodeError as error:
        raise usage(
            f"{file} is not UTF-8 text ({error.reason} at byte {error.start})",
            "save it as CSV UTF-8",
        ) from None
    except csv.Error as error:
        raise usage(f"{file} is not a readable CSV file: {error}") from None
    except OSError as error:
        raise usage(f"cannot read {file}: {error.strerror}") from None


def _parse_map(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        header, sep, target = pair.rpartition("=")
        if not sep or not header.strip():
            raise usage(f'--map wants "Header=field", not {pair!r}')
        overrides[header.strip()] = target.strip()
    return overrides


def _resuming(checkpoint: import_job.Checkpoint, resume: bool) -> bool:
    """Whether there is an unfinished import to resume; refused when --resume is not given."""
    exists = checkpoint.path.exists()
    if exists and not resume:
        raise usage(
            f"an unfinished import of this file left {checkpoint.path}",
            "finish it with --resume, or delete that file to start over",
        )
    return exists


def _finished_batches(
    checkpoint: import_job.Checkpoint, resuming: bool
) -> list[import_job.BatchOutcome]:
    if not resuming:
        checkpoint.start()
        return []
    try:
        return checkpoint.load()
    except ValueError as error:
        raise usage(str(error), "delete that file to start over") from None


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
        disable=not errors.is_terminal,
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
