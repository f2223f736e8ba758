"""Initial schema: apps, users, login tokens, login failures, contacts.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("default_region", sa.String(2), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
    )
    op.create_table(
        "users",
        sa.Column("id", Serial, autoincrement=True, nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("extension", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone_number", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("start_time", sa.Integer(), nullable=True),
        sa.Column("end_time", sa.Integer(), nullable=True),
        sa.Column("sms_alert", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_users_app_id_apps", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_index("uq_users_app_id_extension", "users", ["app_id", "extension"], unique=True)
    op.create_table(
        "login_tokens",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("user_id", Serial, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_login_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_digest", name="pk_login_tokens"),
    )
    op.create_index("ix_login_tokens_user_id", "login_tokens", ["user_id"])
    op.create_index("ix_login_tokens_expires_at", "login_tokens", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("id", Serial, autoincrement=True, nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index(
        "ix_login_failures_user_key_failed_at", "login_failures", ["user_key", "failed_at"]
    )
    op.create_index(
        "ix_login_failures_client_address_failed_at",
        "login_failures",
        ["client_address", "failed_at"],
    )
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])
    op.create_table(
        "contacts",
        sa.Column("seq", Serial, autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("phone_no", sa.String(20), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email_id", sa.String(320), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("job_title", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_contacts_app_id_apps", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_contacts"),
        sa.UniqueConstraint("contact_id", name="uq_contacts_contact_id"),
    )
    op.create_index("uq_contacts_app_id_phone_no", "contacts", ["app_id", "phone_no"], unique=True)
    op.create_index("ix_contacts_app_id_seq", "contacts", ["app_id", "seq"])


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("login_failures")
    op.drop_table("login_tokens")
    op.drop_table("users")
    op.drop_table("apps")
