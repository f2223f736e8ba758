"""Settings, read once from the environment. Command-line flags are applied on top by the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from contacthub.domain.addresses import parse_networks

ENV_PREFIX = "CONTACTHUB_"
DEFAULT_DATABASE_URL = "sqlite:///./contacthub.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Each field `x` is read from the environment variable `CONTACTHUB_X`."""

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = 1024 * 1024
    token_ttl_seconds: int = 30 * 86_400
    login_max_failures_per_id: int = 10
    login_max_failures_per_address: int = 100
    login_window_seconds: int = 15 * 60
    db_pool_size: int = 10
    db_pool_timeout_seconds: int = 10
    db_statement_timeout_ms: int = 30_000
    sqlite_busy_timeout_ms: int = 30_000
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated
    # addresses or networks (CIDR). Empty: none, the TCP peer is the client.
    trusted_proxies: str = ""
    # The request line and headers of one request, together, and how many headers.
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    # Dashboard forms (all but the import upload), and the import upload itself.
    max_form_bytes: int = 64 * 1024
    max_import_bytes: int = 50 * 1024 * 1024
    max_concurrent_imports: int = 2
    # Password hashes (argon2, 64 MiB each) computed at once in one server process;
    # `contacthub serve` sets it from the CPUs and --workers when unset.
    password_hash_concurrency: int = 2
    # How long a process may keep answering for a token without asking the database
    # again: the bound on how late a revoked token is refused by every process.
    token_recheck_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, str | int] = {}
        for field in fields(cls):
            name = ENV_PREFIX + field.name.upper()
            raw = environ.get(name)
            if raw is None or raw == "":
                continue
            if field.type == "int":
                try:
                    number = int(raw)
                except ValueError:
                    raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
                if number < 1:
                    raise ValueError(f"{name} must be at least 1, not {number}")
                values[field.name] = number
            else:
                values[field.name] = raw
        settings = cls(**values)  # type: ignore[arg-type]
        try:
            parse_networks(settings.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}TRUSTED_PROXIES: {exc}") from None
        return settings
