"""What a new user sees first: `--version`, and help that shows flags as flags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import metadata

import pytest
import typer.main

from contacthub.cli import failures, main
from tests.cli.test_failures import run


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and group of the command line, as the words that name it."""
    pending: list[tuple[tuple[str, ...], object]] = [((), typer.main.get_command(main.app))]
    while pending:
        path, command = pending.pop()
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            pending.append(((*path, name), sub))


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"contacthub {metadata.version('contacthub')}\n"


def test_the_commands_are_all_there() -> None:
    assert {" ".join(path) for path in command_paths()} >= {
        "", "serve", "init", "db", "db upgrade", "app", "app create", "user", "user add",
        "login", "import", "export",
    }  # fmt: skip


@pytest.mark.parametrize("path", list(command_paths()), ids=" ".join)
def test_help_shows_flags_without_a_value(path: tuple[str, ...], capsys) -> None:
    assert failures.run(main.app, [*path, "--help"]) == 0
    shown = capsys.readouterr().out
    assert "Usage: contacthub" in shown
    assert not re.search(r"<bool>|BOOLEAN|\[default: (False|True)\]", shown)
    assert re.search(r"^\s+--help\s+Show this message", shown, re.MULTILINE)
    for flag in ("--json", "--dry-run", "--resume", "--force", "--no-migrate", "--version"):
        if flag in shown:
            assert re.search(rf"^\s+{flag}\s{{2,}}\S", shown, re.MULTILINE), flag


@pytest.mark.parametrize("path", [(), ("db",), ("app",), ("user",)], ids=" ".join)
def test_a_group_alone_shows_its_help(path: tuple[str, ...]) -> None:
    done = run(*path)
    assert done.returncode == 0
    assert done.stdout.startswith(f"Usage: contacthub {' '.join(path)}".rstrip())
    assert done.stderr == ""
