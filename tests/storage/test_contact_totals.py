"""An organization's total is kept in shards: migrated from one column, exact under load."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text

from contacthub.domain.contacts import ContactDraft
from contacthub.storage import contacts, migrate
from contacthub.storage.database import Database
from tests.conftest import new_postgres_database

BEFORE = "0004_covering_search_indexes"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A new, empty database of each backend."""
    with (
        nullcontext(f"sqlite:///{tmp_path / 'totals.db'}")
        if request.param == "sqlite"
        else new_postgres_database(request.getfixturevalue("postgres_admin_url"))
    ) as url:
        database = Database(url)
        yield database
        database.dispose()


def add_app(connection: Connection, app_id: int, contact_count: int | None = None) -> None:
    values = {"id": app_id, "name": "org", "secret_digest": "0" * 64, "created_at": 0}
    if contact_count is not None:  # the column of revisions before 0005
        values["contact_count"] = contact_count
    connection.execute(
        text(
            f"INSERT INTO apps ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"
        ),
        values,
    )


def test_the_upgrade_keeps_each_total_and_the_downgrade_gives_it_back(
    empty_database: Database,
) -> None:
    database = empty_database
    migrate.upgrade(database, BEFORE)
    with database.transaction(write=True) as connection:
        add_app(connection, 1, contact_count=3)
        add_app(connection, 2, contact_count=0)
        connection.exec_driver_sql(
            "INSERT INTO users (app_id, extension, name, phone_number, password_hash, created_at)"
            " VALUES (1, 101, 'u', '+919820000000', 'x', 0)"
        )
    migrate.upgrade(database)
    with database.transaction(write=True) as connection:
        assert contacts.count(connection, app_id=1) == 3
        assert contacts.count(connection, app_id=2) == 0
        # Nothing that hangs off an app went with the column.
        assert connection.exec_driver_sql("SELECT count(*) FROM users").scalar_one() == 1
        # Writers add to other shards after the upgrade.
        connection.exec_driver_sql(
            "INSERT INTO contact_totals (app_id, shard, total) VALUES (1, 7, 5), (2, 9, -0)"
        )
        assert contacts.count(connection, app_id=1) == 8
    command.downgrade(migrate.alembic_config(database), BEFORE)
    with database.transaction(write=False) as connection:
        rows = connection.exec_driver_sql("SELECT id, contact_count FROM apps ORDER BY id")
        assert [tuple(row) for row in rows] == [(1, 8), (2, 0)]


def test_concurrent_adds_and_deletes_keep_the_total_exact(empty_database: Database) -> None:
    database = empty_database
    migrate.upgrade(database)
    with database.transaction(write=True) as connection:
        add_app(connection, 1)
    kept_ids: list[str] = []
    lock = threading.Lock()

    def writer(thread: int) -> None:
        for round_ in range(10):
            drafts = [
                ContactDraft(
                    phone_no=f"9198{thread:02d}{round_:02d}{k:04d}", first_name="A", last_name="B"
                )
                for k in range(10)
            ]

            prepared = contacts.prepare_new(drafts)

            def add(connection: Connection, prepared: list[Any] = prepared) -> list[str]:
                new = contacts.insert_new(connection, app_id=1, prepared=prepared, now_ms=0)
                return [c.contact_id for c in new.created]

            added = database.write(add)
            # Every other round takes back three of the contacts it added.
            if round_ % 2:
                database.write(
                    lambda connection, ids=added[:3]: contacts.delete_many(
                        connection, app_id=1, contact_ids=ids
                    )
                )
                added = added[3:]
            with lock:
                kept_ids.extend(added)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with database.transaction(write=False) as connection:
        assert contacts.count(connection, app_id=1) == len(kept_ids) == 8 * (100 - 5 * 3)
        (stored,) = connection.exec_driver_sql("SELECT count(*) FROM contacts").one()
        assert stored == len(kept_ids)
        (shards,) = connection.exec_driver_sql("SELECT count(*) FROM contact_totals").one()
        assert shards > 1
