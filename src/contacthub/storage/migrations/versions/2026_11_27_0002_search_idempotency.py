"""Search keys on contacts, idempotency keys, and the instance's own secrets.

Revision ID: 0002_search_idempotency
Revises: 0001_initial_schema
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from sqlalchemy.dialects import postgresql

revision = "0002_search_idempotency"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None

# Text, not VARCHAR(n): case folding can make a string longer (ß → ss, ﬃ → ffi).
SearchKey = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
KEYS = ("first_name_key", "last_name_key", "company_key", "email_key", "email_domain_key")


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        for key in KEYS:
            batch.add_column(sa.Column(key, SearchKey, nullable=True))
    _backfill_search_keys()
    for key in KEYS:
        op.create_index(f"ix_contacts_app_id_{key}", "contacts", ["app_id", key])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Phone digits match anywhere in the number: a trigram index serves
        # `LIKE '%digits%'`. Without the extension the search still works, by a scan.
        with bind.begin_nested() as savepoint:
            try:
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except sa.exc.DBAPIError:
                savepoint.rollback()
        if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
            op.execute(
                "CREATE INDEX ix_contacts_phone_no_trgm ON contacts "
                "USING gin (phone_no gin_trgm_ops)"
            )

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("path", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_idempotency_keys_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "path", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])

    secrets_table = op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_instance_secrets"),
    )
    op.bulk_insert(
        secrets_table, [{"name": "page_state_key", "value": Fernet.generate_key().decode()}]
    )


def search_keys(
    *, first_name: str, last_name: str, company: str | None, email_id: str | None
) -> dict[str, str | None]:
    """The search keys as this revision defined them (domain.search at the time), frozen
    here: a migration must not change when today's code does."""

    def fold(text: str | None) -> str | None:
        return None if text is None else text.casefold()

    email = fold(email_id)
    return {
        "first_name_key": fold(first_name),
        "last_name_key": fold(last_name),
        "company_key": fold(company),
        "email_key": email,
        "email_domain_key": email.rpartition("@")[2] if email else None,
    }


def _backfill_search_keys() -> None:
    bind = op.get_bind()
    contacts = sa.table(
        "contacts",
        sa.column("seq"),
        sa.column("first_name"),
        sa.column("last_name"),
        sa.column("company"),
        sa.column("email_id"),
        *(sa.column(key) for key in KEYS),
    )
    rows = bind.execute(
        sa.select(
            contacts.c.seq,
            contacts.c.first_name,
            contacts.c.last_name,
            contacts.c.company,
            contacts.c.email_id,
        )
    ).all()
    if not rows:
        return
    bind.execute(
        contacts.update()
        .where(contacts.c.seq == sa.bindparam("row_seq"))
        .values({key: sa.bindparam(key) for key in KEYS}),
        [
            {
                "row_seq": row.seq,
                **search_keys(
                    first_name=row.first_name,
                    last_name=row.last_name,
                    company=row.company,
                    email_id=row.email_id,
                ),
            }
            for row in rows
        ],
    )


def downgrade() -> None:
    op.drop_table("instance_secrets")
    op.drop_table("idempotency_keys")
    op.execute("DROP INDEX IF EXISTS ix_contacts_phone_no_trgm")
    for key in KEYS:
        op.drop_index(f"ix_contacts_app_id_{key}", "contacts")
    with op.batch_alter_table("contacts") as batch:
        for key in KEYS:
            batch.drop_column(key)
