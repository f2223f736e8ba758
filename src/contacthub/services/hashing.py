"""Password hashing behind a bound: argon2 takes ~90 ms of CPU and 64 MiB of memory per
hash on purpose, so unbounded concurrent logins would take a server's memory with them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from contacthub.errors import ServiceUnavailable

P = ParamSpec("P")
R = TypeVar("R")

# Requests that may wait for a free slot, per slot: beyond them the server is saturated.
WAITING_PER_SLOT = 4


class HashingBusy(ServiceUnavailable):
    msg = "Too many password checks at once; try again"


class PasswordHashing:
    """At most `concurrency` hashes at once in this process, each in a thread; up to
    WAITING_PER_SLOT times `concurrency` more wait their turn, and any beyond are refused with
    HashingBusy (503 with Retry-After) at once. Used from one event loop."""

    def __init__(self, concurrency: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0
        self._admit_limit = concurrency * (1 + WAITING_PER_SLOT)

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._admitted >= self._admit_limit:
            raise HashingBusy()
        self._admitted += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work, *args, **kwargs)
        finally:
            self._admitted -= 1
