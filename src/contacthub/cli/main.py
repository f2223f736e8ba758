"""`contacthub serve`, `db upgrade`, `app create` (on the database), `user add`, `export`
(through a running server, see cli/remote.py).

The database URL comes from --database-url, else CONTACTHUB_DATABASE_URL,
else the embedded SQLite default.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from contacthub.cli import remote
from contacthub.config import ENV_PREFIX, Settings
from contacthub.domain.fields import FieldInvalid
from contacthub.server.bounded_http import BoundedHttpToolsProtocol
from contacthub.services import apps as apps_service
from contacthub.storage import migrate
from contacthub.storage.database import Database

app = typer.Typer(
    help="contacthub: a self-hostable contact service that speaks the TeleCMI contact API.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
apps_app = typer.Typer(help="Manage apps (organizations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(apps_app, name="app")
app.add_typer(remote.users_app, name="user")
app.command("export")(remote.export)
app.command("import")(remote.import_contacts)

console = Console()
errors = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://USER@HOST/DB "
        f"[env: {ENV_PREFIX}DATABASE_URL; default: sqlite:///./contacthub.db]",
        show_default=False,
    ),
]


def _database_url(flag: str | None) -> str:
    return flag or Settings.from_env().database_url


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


# Each process keeps a pool of up to 20 database connections: more than 4
# processes would pass PostgreSQL's default limit of 100 connections.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """One server process per CPU, up to MAX_DEFAULT_WORKERS.

    Measured on 2 cores (docs/benchmarks.md): a second process took SQLite's
    100-contact batches from ~15,000 to ~22,000 contacts/s, single adds ~35%
    further, and PostgreSQL's batches ~25% further; the writer turn and group
    commit keep SQLite's writes serialized and whole across processes.
    """
    return max(1, min(len(os.sched_getaffinity(0)), MAX_DEFAULT_WORKERS))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Server processes sharing the one database "
            f"(default: one per CPU this process may use, at most {MAX_DEFAULT_WORKERS}).",
            min=1,
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not upgrade the schema before serving.")
    ] = False,
) -> None:
    """Serve the HTTP API."""
    url = _database_url(database_url)
    workers = workers or default_workers()
    try:
        Settings.from_env()
        if not no_migrate:
            _upgrade(url)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    # Worker processes build their settings from the environment, so the
    # resolved URL travels to them there, flags having already won.
    os.environ[f"{ENV_PREFIX}DATABASE_URL"] = url
    # About one password hash at a time per CPU for the whole server, whatever --workers.
    os.environ.setdefault(
        f"{ENV_PREFIX}PASSWORD_HASH_CONCURRENCY",
        str(max(1, -(-len(os.sched_getaffinity(0)) // workers))),
    )
    with ExitStack() as cleanup:
        # Several workers share their Prometheus metrics through files in one
        # fresh directory, removed when the server stops.
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = cleanup.enter_context(
                tempfile.TemporaryDirectory(prefix="contacthub-metrics-")
            )
        uvicorn.run(
            "contacthub.server.serving:served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,  # the app writes its own (edge/access_log.py), cheaper
            # The app reads proxy headers itself, only from CONTACTHUB_TRUSTED_PROXIES
            # (edge/proxies.py); uvicorn's would trust 127.0.0.1 and any text as an address.
            proxy_headers=False,
            http=BoundedHttpToolsProtocol,  # httptools, each request's head bounded
        )


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the schema to the latest version."""
    url = _database_url(database_url)
    try:
        revision = _upgrade(url)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Database is at revision [bold]{revision}[/].", highlight=False)


def _upgrade(url: str) -> str | None:
    database = Database(url)
    try:
        migrate.upgrade(database)
        return migrate.current_revision(database)
    finally:
        database.dispose()


@apps_app.command("create")
def app_create(
    name: Annotated[str, typer.Option("--name", help="The organization's name.")],
    default_region: Annotated[
        str | None,
        typer.Option(
            "--default-region",
            help="ISO 3166 alpha-2 code (e.g. IN) in which national phone numbers are read.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: appid, secret, name.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an app and print its id and secret (shown once: only its hash is stored)."""
    try:
        apps_service.check_new_app(name, default_region)
    except FieldInvalid as exc:
        raise _fail(exc.msg) from None
    database = Database(_database_url(database_url))
    try:
        migrate.upgrade(database)
        with database.transaction(write=True) as connection:
            created = apps_service.create(connection, name=name, default_region=default_region)
    finally:
        database.dispose()
    if as_json:
        typer.echo(
            json.dumps({"appid": created.appid, "secret": created.secret, "name": created.name})
        )
        return
    console.print(f"Created app [bold]{created.name}[/]", highlight=False)
    console.print(f"  appid:  [bold]{created.appid}[/]", highlight=False)
    console.print(
        f"  secret: [bold]{created.secret}[/]  (shown once; keep it safe)", highlight=False
    )
    if created.default_region:
        console.print(f"  default region: {created.default_region}", highlight=False)


def main() -> None:
    app()
