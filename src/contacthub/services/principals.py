"""Who recently seen tokens speak for, kept in memory until each token expires.

A token is never revoked before its expiry, and a user's organization and its
default region never change, so the answer the database gave for a token stays
right until the token expires: caching it is exact, not an approximation, and
spares most requests a database round trip before their real work.
"""

from __future__ import annotations

from collections import OrderedDict

from contacthub.domain import secrets
from contacthub.storage.users import Principal

DEFAULT_CAPACITY = 10_000


class PrincipalCache:
    """The most recently used tokens' principals; not thread-safe (the event loop owns it)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._by_digest: OrderedDict[str, Principal] = OrderedDict()

    def get(self, token: str, now_ms: int) -> Principal | None:
        digest = secrets.digest(token)
        principal = self._by_digest.get(digest)
        if principal is None:
            return None
        if principal.token_expires_at <= now_ms:
            del self._by_digest[digest]
            return None
        self._by_digest.move_to_end(digest)
        return principal

    def put(self, token: str, principal: Principal) -> None:
        digest = secrets.digest(token)
        self._by_digest[digest] = principal
        self._by_digest.move_to_end(digest)
        while len(self._by_digest) > self._capacity:
            self._by_digest.popitem(last=False)
