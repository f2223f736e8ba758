"""How every `contacthub` command fails: one line `error: <what> (<what to do>)` on stderr.

`run` is the one wrapper around the command tree: whatever a command raises
(a usage error, the client library's exceptions, a refused connection, the
database's errors, an unreadable file) becomes that one line, never a
traceback. Exit status 2 means bad usage or input (nothing was attempted, or
the input was refused as invalid); 1 means the operation failed (a server
unreachable or refusing, database trouble).

Nothing here imports the server's modules: a failure of SQLAlchemy, psycopg or
Alembic can only happen once the command has imported them, so they are
looked up in `sys.modules` instead (`_loaded`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import typer
import typer.main

from contacthub.client import (
    APIError,
    AuthError,
    ContactHubError,
    DuplicateError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from contacthub.domain.fields import FieldInvalid
from contacthub.errors import ContactHubError as ServiceError
from contacthub.errors import InvalidRequest, ServiceUnavailable, TooManyAttempts

USAGE = 2
FAILED = 1
INTERRUPTED = 130  # the shell's status for a process ended by SIGINT

URL_ENV = "CONTACTHUB_URL"
DATABASE_HINT = "--database-url or CONTACTHUB_DATABASE_URL"

# The database the running command works on, named in its failures (set when resolved).
database_in_use: ContextVar[str | None] = ContextVar("database_in_use", default=None)


class CommandError(Exception):
    """Ends a command with `error: <what> (<todo>)` and exit `status`."""

    def __init__(self, what: str, todo: str | None = None, *, status: int = FAILED) -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo
        self.status = status

    def line(self) -> str:
        text = self.what.rstrip(".") + (f" ({self.todo})" if self.todo else "")
        return " ".join(text.split())  # one line, whatever the message held

    def also(self, todo: str) -> CommandError:
        """The same failure, with one more thing to do."""
        todo = f"{self.todo}; {todo}" if self.todo else todo
        return CommandError(self.what, todo, status=self.status)


def usage(what: str, todo: str | None = None) -> CommandError:
    return CommandError(what, todo, status=USAGE)


def invalid_fields(
    what: str, problems: Iterable[tuple[str, str]], flags: Mapping[str, str]
) -> CommandError:
    """Bad values, each named by the flag that gave it (`phone_number` is `--phone`)."""
    named = "; ".join(f"{flags.get(field, field)}: {msg}" for field, msg in problems)
    return usage(f"{what}: {named}", "correct the values named")


def run(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the command line; return its exit status, having said why it failed if it did."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="contacthub", standalone_mode=False)
    except KeyboardInterrupt:
        _say(CommandError("interrupted", status=INTERRUPTED))
        return INTERRUPTED
    except Exception as error:
        failure = describe(error)
        _say(failure)
        return failure.status
    # main() returns the status of a typer.Exit, or what the command returned (None).
    return result if isinstance(result, int) else 0


def _say(failure: CommandError) -> None:
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {failure.line()}", err=True)


def describe(error: Exception) -> CommandError:
    """The one line for any exception a command may raise."""
    if isinstance(error, CommandError):
        return error
    if isinstance(error, typer.TyperException):  # typer's usage errors
        return _usage_error(error)
    if isinstance(error, typer.Abort):
        return CommandError("aborted")
    if isinstance(error, ContactHubError):
        return _client_error(error)
    if isinstance(error, FieldInvalid):
        return usage(error.msg)
    database = _database_error(error)
    if database is not None:
        return database
    if isinstance(error, ServiceError):
        return _service_error(error)
    if isinstance(error, OSError):
        return CommandError(_os_error(error))
    if isinstance(error, ImportError):  # a client-only installation, running a server command
        return CommandError(
            f"this command needs the server's modules: {error}",
            "install contacthub with its dependencies (pip install contacthub)",
        )
    return CommandError(
        f"unexpected {type(error).__name__}: {error}",
        "a bug in contacthub: please report it with the command that caused it",
    )


def _usage_error(error: typer.TyperException) -> CommandError:
    context = getattr(error, "ctx", None)
    todo = f"see '{context.command_path} --help'" if context is not None else None
    return CommandError(error.format_message(), todo, status=error.exit_code)


# The client library: the server is unreachable, or it refused.


def _client_error(error: ContactHubError) -> CommandError:
    if isinstance(error, TransportError):
        where = _origin(error.request.url) if error.request else "the server"
        return CommandError(
            f"cannot reach {where}: {_strip_errno(str(error))}",
            f"is contacthub serve running there? check --url or {URL_ENV}",
        )
    if not isinstance(error, APIError):
        return CommandError(str(error))
    url = _request_url(error.response)
    path = url.path if url else ""
    what = f"{url or 'the server'} refused: {error}"
    if isinstance(error, ValidationError):
        return usage(what, "correct the values named")
    if isinstance(error, AuthError):
        return CommandError(what, _credentials_hint(path))
    if isinstance(error, DuplicateError):
        return CommandError(what, "choose another --extension" if path == "/v2/user/add" else None)
    if isinstance(error, RateLimitError):
        wait = f"in {error.retry_after:.0f} seconds" if error.retry_after else "later"
        return CommandError(what, f"too many failed logins: try again {wait}")
    if isinstance(error, ServerError):
        return CommandError(what, "the server's log says why; try again")
    return CommandError(what, f"is {url and _origin(url)} a contacthub server? check --url")


def _request_url(response: httpx.Response) -> httpx.URL | None:
    try:
        return response.request.url.copy_with(query=None)
    except RuntimeError:  # httpx raises this for a response built without its request
        return None


def _credentials_hint(path: str) -> str:
    if path == "/v2/user/login":
        return "check the password, and the user id: <extension>_<appid>"
    if path == "/v2/user/add":
        return "check --appid and --secret"
    return (
        "the token is wrong, expired or revoked: give --user-id to log in, "
        "or a new token with --token or CONTACTHUB_TOKEN"
    )


def _origin(url: httpx.URL) -> str:
    return str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def _strip_errno(message: str) -> str:
    return re.sub(r"^\[Errno -?\d+\]\s*", "", message)


def _os_error(error: OSError) -> str:
    reason = error.strerror or _strip_errno(str(error)) or type(error).__name__
    return f"{error.filename}: {reason}" if error.filename else reason


# The database, for the commands that work on it.


def _loaded(module: str, name: str) -> type[BaseException] | None:
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _database_error(error: BaseException) -> CommandError | None:
    if isinstance(error, ServiceUnavailable) and error.__cause__ is not None:
        error = error.__cause__  # what the database said, rather than "try again"
    url_problem = _loaded("sqlalchemy.exc", "ArgumentError")
    if url_problem and isinstance(error, url_problem):
        return usage(f"bad database URL: {error}", f"check {DATABASE_HINT}")
    schema_problem = _loaded("alembic.util.exc", "CommandError")
    if schema_problem and isinstance(error, schema_problem):
        return CommandError(
            f"cannot migrate the database {_shown_database()}: {error}",
            "was it upgraded by a newer contacthub?",
        )
    kinds = [
        _loaded("sqlalchemy.exc", "SQLAlchemyError"),
        _loaded("psycopg", "Error"),
        _loaded("sqlite3", "Error"),
    ]
    if not any(kind and isinstance(error, kind) for kind in kinds):
        return None
    said = getattr(error, "orig", None) or error  # the driver's words, not SQLAlchemy's wrapper
    detail = str(said).strip().splitlines()[0] if str(said).strip() else type(said).__name__
    url = database_in_use.get() or ""
    if url.startswith("sqlite"):
        todo = f"does the SQLite file's folder exist, and may it be written? check {DATABASE_HINT}"
    else:
        todo = (
            f"is PostgreSQL running, and does the database exist (createdb)? check {DATABASE_HINT}"
        )
    return CommandError(f"cannot use the database {_shown_database()}: {detail}", todo)


def _shown_database() -> str:
    url = database_in_use.get()
    return shown_url(url) if url else "(unknown)"


def shown_url(url: str) -> str:
    """`url` without its password, if it has one."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _service_error(error: ServiceError) -> CommandError:
    if isinstance(error, InvalidRequest):
        return invalid_fields(error.msg, ((p.field, p.msg) for p in error.problems), {})
    if isinstance(error, TooManyAttempts):
        return CommandError(error.msg, f"try again in {error.retry_after_seconds} seconds")
    return CommandError(error.msg)
