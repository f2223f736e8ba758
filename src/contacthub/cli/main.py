"""The `contacthub` command: `serve`, `db upgrade`, `app create` and `init` on the database;
`user add`, `login`, `import` and `export` through a running server (cli/remote.py).

The database URL comes from --database-url, else CONTACTHUB_DATABASE_URL,
else the embedded SQLite default. The server's modules (uvicorn, SQLAlchemy,
storage, services) are imported inside the database commands, so that the
remote ones work without them. Every failure is one line (cli/failures.py).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from contextlib import ExitStack
from importlib import metadata
from typing import TYPE_CHECKING, Annotated

import typer

from contacthub.cli import failures, remote
from contacthub.cli.failures import CommandError, usage

if TYPE_CHECKING:
    from contacthub.config import Settings
    from contacthub.storage.database import Database

DATABASE_ENV = "CONTACTHUB_DATABASE_URL"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


def _typer(help_text: str) -> typer.Typer:
    # Plain help: typer's rich panels show every flag as taking a `<bool>` value.
    return typer.Typer(
        help=help_text, rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False
    )


def _group(help_text: str) -> typer.Typer:
    """A command group whose help shows when it is run without a command."""
    group = _typer(help_text)

    @group.callback(invoke_without_command=True)
    def show_help(context: typer.Context) -> None:
        if context.invoked_subcommand is None:
            typer.echo(context.get_help())

    return group


app = _typer("contacthub: a self-hostable contact service that speaks the TeleCMI contact API.")
db_app = _group("Manage the database schema.")
apps_app = _group("Manage apps (organizations), on the database.")
users_app = _group("Manage the users of an app.")
app.add_typer(db_app, name="db")
app.add_typer(apps_app, name="app")
app.add_typer(users_app, name="user")


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"contacthub {metadata.version('contacthub')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    context: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER@HOST/DB "
        f"[env: {DATABASE_ENV}; default: sqlite:///./contacthub.db]",
        show_default=False,
    ),
]


def _settings() -> Settings:
    from contacthub.config import Settings  # noqa: PLC0415  (imports storage)

    try:
        return Settings.from_env()
    except ValueError as error:
        raise usage(str(error), "fix that variable or unset it") from None


def _database_url(flag: str | None) -> str:
    """--database-url, else CONTACTHUB_DATABASE_URL, else the default; checked, and remembered
    so that the command's database failures name it."""
    settings = _settings()
    url, source = (flag, "--database-url") if flag else (settings.database_url, DATABASE_ENV)
    if url.partition(":")[0].partition("+")[0] not in DATABASE_SCHEMES:
        raise usage(
            f"unsupported database URL {failures.shown_url(url)!r} in {source}",
            "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
        )
    failures.database_in_use.set(url)
    return url


def _open_database(url: str) -> Database:
    from contacthub.storage.database import Database  # noqa: PLC0415

    return Database(url)


def _upgrade(url: str) -> str | None:
    from contacthub.storage import migrate  # noqa: PLC0415

    database = _open_database(url)
    try:
        migrate.upgrade(database)
        return migrate.current_revision(database)
    finally:
        database.dispose()


def _check_database(url: str) -> None:
    """Connect once, so that an unreachable database fails here, in one line."""
    database = _open_database(url)
    try:
        with database.transaction(write=False):
            pass
    finally:
        database.dispose()


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
    import uvicorn  # noqa: PLC0415

    from contacthub.server.bounded_http import BoundedHttpToolsProtocol  # noqa: PLC0415

    url = _database_url(database_url)
    workers = workers or default_workers()
    if no_migrate:
        _check_database(url)
    else:
        _upgrade(url)
    # Worker processes build their settings from the environment, so the
    # resolved URL travels to them there, flags having already won.
    os.environ[DATABASE_ENV] = url
    # About one password hash at a time per CPU for the whole server, whatever --workers.
    os.environ.setdefault(
        "CONTACTHUB_PASSWORD_HASH_CONCURRENCY",
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
    revision = _upgrade(_database_url(database_url))
    typer.echo(f"Database is at revision {revision}.")


Name = Annotated[str, typer.Option("--name", metavar="NAME", help="The organization's name.")]
DefaultRegion = Annotated[
    str | None,
    typer.Option(
        "--default-region",
        metavar="CC",
        help="ISO 3166 alpha-2 code (e.g. IN) in which national phone numbers are read.",
    ),
]


@apps_app.command("create")
def app_create(
    name: Name,
    default_region: DefaultRegion = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: appid, secret, name.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an app and print its id and secret (shown once: only its hash is stored)."""
    from contacthub.services import apps as apps_service  # noqa: PLC0415
    from contacthub.storage import migrate  # noqa: PLC0415

    url = _database_url(database_url)
    remote.region_flag(default_region)
    apps_service.check_new_app(name, default_region)
    database = _open_database(url)
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
    typer.echo(f"Created app {created.name}")
    typer.echo(f"  appid:  {created.appid}")
    typer.echo(f"  secret: {created.secret}  (shown once; keep it safe)")
    if created.default_region:
        typer.echo(f"  default region: {created.default_region}")


# The services' names of a new user's fields, and the flags of `init` that give them.
INIT_USER_FLAGS = {
    "extension": "--extension",
    "name": "--user-name",
    "phone_number": "--phone",
    "password": "--password",
}


@app.command()
def init(
    *,
    name: Name,
    user_name: Annotated[
        str, typer.Option("--user-name", metavar="NAME", help="The first user's name.")
    ],
    phone: Annotated[
        str, typer.Option("--phone", metavar="PHONE", help="The first user's phone number.")
    ],
    default_region: DefaultRegion = None,
    extension: Annotated[
        int, typer.Option("--extension", metavar="N", help="The first user's extension.")
    ] = 101,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            metavar="PASSWORD",
            help="The first user's password, at least 8 characters; asked for (hidden, "
            "twice) when left out at a terminal.",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            help="Where the server is reached, for the next steps printed "
            f"[env: {failures.URL_ENV}; default: {remote.DEFAULT_URL}].",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Create another organization even if one exists."),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON object: appid, secret, name, user_id, token, url."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set up a new installation: its organization, its first user, and a login token."""
    from contacthub.services import apps as apps_service  # noqa: PLC0415

    settings = _settings()
    database_url = _database_url(database_url)
    server = remote.server_url(url, default=remote.DEFAULT_URL)
    remote.region_flag(default_region)
    apps_service.check_new_app(name, default_region)
    new_password = remote.ask_password(password, for_what="the first user", new=True)
    user: dict[str, str | int] = {"extension": extension, "name": user_name, "phone_number": phone}
    database = _open_database(database_url)
    try:
        appid, secret, user_id = _create_first_user(
            database, name, default_region, {**user, "password": new_password}, force=force
        )
        token = _log_in(database, settings, user_id, new_password)
    finally:
        database.dispose()
    if as_json:
        created = {"appid": appid, "secret": secret, "name": name.strip(), "user_id": user_id}
        typer.echo(json.dumps({**created, "token": token, "url": server}))
        return
    days = settings.token_ttl_seconds // 86_400
    _print_next_steps(
        name=name.strip(),
        appid=appid,
        secret=secret,
        user_name=user_name.strip(),
        user_id=user_id,
        token=token,
        server=server,
        ttl=f"{days} days" if days else "less than a day",
    )


def _create_first_user(
    database: Database,
    name: str,
    default_region: str | None,
    user: dict[str, str | int],
    *,
    force: bool,
) -> tuple[int, str, str]:
    """The organization and its user, in one transaction: a refusal leaves neither.

    The password's hash (~0.1 s) is taken inside it, holding the write lock
    this once, which is what keeping the two together costs.
    """
    from contacthub.domain.credentials import AppCredentials  # noqa: PLC0415
    from contacthub.errors import InvalidRequest  # noqa: PLC0415
    from contacthub.services import apps as apps_service  # noqa: PLC0415
    from contacthub.services import users as users_service  # noqa: PLC0415
    from contacthub.storage import migrate  # noqa: PLC0415

    migrate.upgrade(database)
    with database.transaction(write=True) as connection:
        existing = apps_service.any_appid(connection)
        if existing is not None and not force:
            raise CommandError(
                f"this database already holds an organization (appid {existing})",
                "init sets up a new installation; to add another organization, "
                "pass --force or use contacthub app create",
            )
        created = apps_service.create(connection, name=name, default_region=default_region)
        credentials = AppCredentials(created.appid, created.secret)
        try:
            new_user = users_service.check_new_user(connection, credentials, dict(user))
        except InvalidRequest as error:
            problems = ((problem.field, problem.msg) for problem in error.problems)
            raise failures.invalid_fields("the first user", problems, INIT_USER_FLAGS) from None
        added = users_service.add(connection, new_user, users_service.password_hash(new_user))
    return created.appid, created.secret, added.agent_id


def _log_in(database: Database, settings: Settings, user_id: str, password: str) -> str:
    """A token for the new user, from the login use case, as `POST /v2/user/login` gets one."""
    import asyncio  # noqa: PLC0415

    from contacthub.domain.credentials import UserCredentials  # noqa: PLC0415
    from contacthub.edge.context import AppContext  # noqa: PLC0415
    from contacthub.services import users as users_service  # noqa: PLC0415

    context = AppContext(settings=settings, database=database)
    logged_in = asyncio.run(
        users_service.log_in(
            context,
            context.hashing,
            credentials=UserCredentials(user_id, password),
            client_address="unknown",  # at the server's own terminal
            policy=context.login_policy,
        )
    )
    return logged_in.token


# A first contact, for the curl command of the next steps.
SAMPLE_CONTACT = json.dumps(
    {"contacts": [{"phone_no": "919200000000", "first_name": "John", "last_name": "Doe"}]}
)


def _print_next_steps(
    *,
    name: str,
    appid: int,
    secret: str,
    user_name: str,
    user_id: str,
    token: str,
    server: str,
    ttl: str,
) -> None:
    program = _program()
    for line in (
        f"Created the organization {name} (appid {appid}) and its first user, {user_name}.",
        "",
        "The app's secret, shown this once (only its hash is stored; `user add` needs it):",
        f"  {secret}",
        "",
        f"Dashboard: {server}/  (when the server runs: make run, or {program} serve)",
        f"  log in as {user_id} with the password you chose",
        "",
        f"API and command line, with a login token valid for {ttl}:",
        f"  export {failures.URL_ENV}={shlex.quote(server)} "
        f"{remote.TOKEN_ENV}={shlex.quote(token)}",
        "then, for example:",
        f'  curl -s "${failures.URL_ENV}/v3/contact/add" '
        f'-H "Authorization: Bearer ${remote.TOKEN_ENV}" \\',
        f"    -H 'Content-Type: application/json' -d '{SAMPLE_CONTACT}'",
        f"  {program} import contacts.csv",
        f"  {program} export -o contacts-export.csv",
    ):
        typer.echo(line)


def _program() -> str:
    """How to run this command again: `contacthub` if that is on PATH, else the path used."""
    used = sys.argv[0]
    found = shutil.which("contacthub")
    if found and os.path.exists(used) and os.path.samefile(found, used):
        return "contacthub"
    return shlex.quote(used) if os.path.basename(used) == "contacthub" else "contacthub"


# Registered last, so that help lists them after init.
users_app.command("add")(remote.user_add)


@users_app.command("revoke-tokens")
def user_revoke_tokens(
    user_id: Annotated[
        str, typer.Argument(metavar="USER_ID", help="The user, as <extension>_<appid>.")
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke every login token of a user, on the database (a lost device, a person who left).

    Every server process refuses them within CONTACTHUB_TOKEN_RECHECK_SECONDS (5 s).
    """
    from contacthub.errors import NotAuthenticated  # noqa: PLC0415
    from contacthub.services import users as users_service  # noqa: PLC0415

    url = _database_url(database_url)
    database = _open_database(url)
    try:
        with database.transaction(write=True) as connection:
            revoked = users_service.revoke_tokens(connection, user_id)
    except NotAuthenticated:
        raise usage(f"no user {user_id!r}", "give an existing user's <extension>_<appid>") from None
    finally:
        database.dispose()
    typer.echo(f"Revoked {revoked} token{'s' * (revoked != 1)} of {user_id}.")


app.command("login")(remote.login)
app.command("import")(remote.import_contacts)
app.command("export")(remote.export)


def main() -> None:
    sys.exit(failures.run(app))
