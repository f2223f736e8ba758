"""The one statement SQLite and PostgreSQL spell differently: INSERT ... ON CONFLICT."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(
    connection: Connection, table: Table
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that skips rows breaking a unique index instead of failing the transaction.

    The caller learns which rows went in from RETURNING; a unique index, not a
    prior SELECT, is what decides, so two racing requests cannot both win.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
