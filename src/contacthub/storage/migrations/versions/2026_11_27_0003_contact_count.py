"""Each app keeps the number of its contacts.

Revision ID: 0003_contact_count
Revises: 0002_search_idempotency
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_contact_count"
down_revision = "0002_search_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(
            sa.Column("contact_count", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE apps SET contact_count = "
        "(SELECT count(*) FROM contacts WHERE contacts.app_id = apps.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("contact_count")
