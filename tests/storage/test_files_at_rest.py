"""The SQLite database and the files beside it are readable by their owner only.

They hold personal data, password hashes and the key that seals cursors. A
database contacthub creates is made 0600 whatever the umask, and SQLite gives
its `-wal` and `-shm` files the database file's mode; the writer turn's
`.writer-lock` and `.writer-queue` files are made 0600 too. A database the
operator made keeps the mode the operator gave it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contacthub.storage.database import Database
from tests.conftest import SHARED_SERVER_ENV, Server, new_org, run_cli


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """Files made meanwhile, here and in the processes started here, get at most ~mask."""
    before = os.umask(mask)
    try:
        yield
    finally:
        os.umask(before)


def modes(directory: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()}


def test_a_new_database_and_every_file_beside_it_are_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    url = f"sqlite:///{directory / 'contacthub.db'}"
    with umask(0o022):
        upgraded = run_cli("db", "upgrade", database_url=url)
        assert upgraded.returncode == 0, upgraded.stderr
        assert modes(directory)["contacthub.db"] == 0o600
        server = Server(url, env=SHARED_SERVER_ENV).start(tmp_path / "server.log")
    try:
        new_org(server).client.close()  # writes: an app, a user, a token
        # Read while the server holds the database open: its -wal and -shm exist only then.
        found = modes(directory)
    finally:
        server.stop()
    assert set(found) == {
        "contacthub.db", "contacthub.db-wal", "contacthub.db-shm",
        "contacthub.db.writer-lock", "contacthub.db.writer-queue",
    }  # fmt: skip
    assert found == dict.fromkeys(found, 0o600)


def test_a_database_made_in_process_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "in-process.db"
    with umask(0o002):
        database = Database(f"sqlite:///{path}")
        try:
            with database.transaction(write=True) as connection:
                connection.exec_driver_sql("CREATE TABLE t (v INTEGER)")
        finally:
            database.dispose()
    assert modes(tmp_path) == {
        "in-process.db": 0o600,
        "in-process.db.writer-lock": 0o600,
        "in-process.db.writer-queue": 0o600,
    }


def test_the_mode_of_an_operators_own_database_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "operators.db"
    path.touch()
    path.chmod(0o640)  # e.g. readable by a backup group
    upgraded = run_cli("db", "upgrade", database_url=f"sqlite:///{path}")
    assert upgraded.returncode == 0, upgraded.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
