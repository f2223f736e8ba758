"""An app's number of contacts is kept in shards, so concurrent writers of one app don't queue.

Revision ID: 0005_contact_totals
Revises: 0004_covering_search_indexes
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_contact_totals"
down_revision = "0004_covering_search_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_totals",
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_contact_totals_app_id_apps", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "shard", name="pk_contact_totals"),
    )
    op.execute(
        "INSERT INTO contact_totals (app_id, shard, total) "
        "SELECT id, 0, contact_count FROM apps WHERE contact_count <> 0"
    )
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not batch mode: its
    # copy-and-drop of `apps` would, with foreign keys on, cascade to every
    # user, contact and total of every organization.
    op.drop_column("apps", "contact_count")


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(
            sa.Column("contact_count", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE apps SET contact_count = COALESCE("
        "(SELECT sum(total) FROM contact_totals WHERE contact_totals.app_id = apps.id), 0)"
    )
    op.drop_table("contact_totals")
