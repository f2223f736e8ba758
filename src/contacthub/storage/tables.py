"""The schema. Alembic migrations under `migrations/` create it; this mirrors them.

Timestamps are UTC milliseconds since the epoch, as TeleCMI sends them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects import postgresql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (and so
# auto-incrementing and append-only); BIGINT there would be a plain column.
Serial = BigInteger().with_variant(Integer(), "sqlite")
SEARCH_KEYS = ("first_name_key", "last_name_key", "company_key", "email_key", "email_domain_key")
# Text, not VARCHAR(n): case folding can make a string longer (ß → ss, ﬃ → ffi).
SearchKey = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")

apps = Table(
    "apps",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("default_region", String(2)),
    Column("created_at", BigInteger, nullable=False),
)

# An organization's number of contacts, the sum of its rows here: kept by
# every add and delete in their own transaction, so that a page can tell the
# total without counting a million rows. Each transaction adds to one of
# several shards, so that concurrent writers of one organization on
# PostgreSQL don't queue for one row lock until their commit (measured: 20%
# of the throughput of 100-contact batches at 16 connections).
contact_totals = Table(
    "contact_totals",
    metadata,
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("shard", SmallInteger, primary_key=True),
    Column("total", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Serial, primary_key=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("extension", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("phone_number", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("start_time", Integer),
    Column("end_time", Integer),
    Column("sms_alert", Boolean),
    Column("created_at", BigInteger, nullable=False),
    Index("uq_users_app_id_extension", "app_id", "extension", unique=True),
)

login_tokens = Table(
    "login_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Serial, primary_key=True),
    Column("user_key", String(64), nullable=False),
    Column("client_address", String(64), nullable=False),
    Column("failed_at", BigInteger, nullable=False),
    Index("ix_login_failures_user_key_failed_at", "user_key", "failed_at"),
    Index("ix_login_failures_client_address_failed_at", "client_address", "failed_at"),
    Index("ix_login_failures_failed_at", "failed_at"),
)

contacts = Table(
    "contacts",
    metadata,
    # `seq` orders contacts by creation and is the keyset the pages follow;
    # `contact_id` is the public name, a time-ordered UUIDv7.
    Column("seq", Serial, primary_key=True),
    Column("contact_id", Uuid, nullable=False, unique=True),
    Column("app_id", ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("phone_no", String(20), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email_id", String(320)),
    Column("company", String(200)),
    Column("job_title", String(200)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Case-folded copies that searches compare against by prefix, with a
    # byte-order collation so that an index answers `>= prefix AND < bound`.
    Column("first_name_key", SearchKey),
    Column("last_name_key", SearchKey),
    Column("company_key", SearchKey),
    Column("email_key", SearchKey),
    Column("email_domain_key", SearchKey),
    # The duplicate rule itself: one number per organization, whoever races.
    Index("uq_contacts_app_id_phone_no", "app_id", "phone_no", unique=True),
    Index("ix_contacts_app_id_seq", "app_id", "seq"),
    # One index per search key, carrying the keys before it too: a search's
    # count is then answered from the indexes alone (see storage/contacts.py).
    *(
        Index(f"ix_contacts_app_id_{key}", "app_id", key, *SEARCH_KEYS[:position])
        for position, key in enumerate(SEARCH_KEYS)
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_digest", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
)

# Secrets the server makes for itself at its first migration, shared by all of
# its processes: the key that seals page_state cursors.
instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)
