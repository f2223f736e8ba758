"""How many failed attempts are tolerated, and how long logins last."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    token_ttl_ms: int
    window_ms: int
    max_failures_per_user: int
    max_failures_per_address: int
