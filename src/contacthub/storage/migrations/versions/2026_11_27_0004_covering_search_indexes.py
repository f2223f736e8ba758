"""Search-key indexes that also carry the keys before them, so counts skip the table.

Revision ID: 0004_covering_search_indexes
Revises: 0003_contact_count
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004_covering_search_indexes"
down_revision = "0003_contact_count"
branch_labels = None
depends_on = None

KEYS = ("first_name_key", "last_name_key", "company_key", "email_key", "email_domain_key")


def upgrade() -> None:
    # The first key's index needs nothing more; the others are rebuilt wider.
    for position, key in enumerate(KEYS[1:], start=1):
        op.drop_index(f"ix_contacts_app_id_{key}", "contacts")
        op.create_index(f"ix_contacts_app_id_{key}", "contacts", ["app_id", key, *KEYS[:position]])


def downgrade() -> None:
    for key in KEYS[1:]:
        op.drop_index(f"ix_contacts_app_id_{key}", "contacts")
        op.create_index(f"ix_contacts_app_id_{key}", "contacts", ["app_id", key])
