"""Alembic's entry point; `contacthub.storage.migrate` hands it an engine."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from contacthub.storage.engine import WRITE_OPTION
from contacthub.storage.tables import metadata

# Any number, as long as it is the same for every process: two servers that
# start together on one PostgreSQL database must not both run a migration.
_MIGRATION_LOCK = 4_242_001


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        # On SQLite this makes the migration's transaction BEGIN IMMEDIATE,
        # which serialises concurrent upgrades the same way.
        connection.execution_options(**{WRITE_OPTION: True})
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            context.run_migrations()


run_migrations_online()
