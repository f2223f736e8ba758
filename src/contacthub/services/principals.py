"""Who recently seen tokens speak for, kept in memory for a short while.

A user's organization and its default region never change, so the answer the
database gave for a token stays right until the token expires or is revoked
(log out, `contacthub user revoke-tokens`). Revocation happens in the database,
which every process and host shares, so each entry is trusted only for
`recheck_ms` after the database last vouched for it: a revoked token is refused
everywhere at most that long after, while a busy token still costs one
database read per interval instead of one per request.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from contacthub.domain import secrets
from contacthub.domain.users import Principal

DEFAULT_CAPACITY = 10_000


class _Entry(NamedTuple):
    principal: Principal
    checked_at_ms: int


class PrincipalCache:
    """The most recently used tokens' principals; not thread-safe (the event loop owns it)."""

    def __init__(self, recheck_ms: int, capacity: int = DEFAULT_CAPACITY) -> None:
        self._recheck_ms = recheck_ms
        self._capacity = capacity
        self._by_digest: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, token: str, now_ms: int) -> Principal | None:
        digest = secrets.digest(token)
        entry = self._by_digest.get(digest)
        if entry is None:
            return None
        if entry.principal.token_expires_at <= now_ms or (
            now_ms - entry.checked_at_ms >= self._recheck_ms
        ):
            del self._by_digest[digest]
            return None
        self._by_digest.move_to_end(digest)
        return entry.principal

    def put(self, token: str, principal: Principal, now_ms: int) -> None:
        digest = secrets.digest(token)
        self._by_digest[digest] = _Entry(principal, now_ms)
        self._by_digest.move_to_end(digest)
        while len(self._by_digest) > self._capacity:
            self._by_digest.popitem(last=False)

    def forget(self, token: str) -> None:
        self._by_digest.pop(secrets.digest(token), None)
