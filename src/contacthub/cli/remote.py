"""Commands that talk to a running server over HTTP, through `contacthub.client`.

`contacthub user add` and `contacthub export`: the same operations as the
API, for people at a terminal, so that nobody needs curl.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Literal, TextIO

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from contacthub.client import APIError, Contact, ContactHub, ContactHubError

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
        target = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            written = _write_contacts(hub.iter_contacts(search=search), output_format, target)
        finally:
            if output:
                target.close()
    errors.print(f"Exported {written} contacts" + (f" to {output}" if output else ""))


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
                writer.writerow(row)
            else:
                target.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
            progress.advance(task)
    return written
