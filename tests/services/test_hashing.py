"""Password hashing is bounded: `concurrency` at once, a short queue, then HashingBusy at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from contacthub.services.hashing import WAITING_PER_SLOT, HashingBusy, PasswordHashing


def test_hashes_beyond_the_slots_and_their_queue_are_refused_at_once() -> None:
    release = threading.Event()
    started = threading.Semaphore(0)

    def slow_hash(n: int) -> int:
        started.release()
        release.wait(timeout=30)
        return n

    async def scenario() -> None:
        hashing = PasswordHashing(concurrency=2)
        admitted = [
            asyncio.create_task(hashing.run(slow_hash, n))
            for n in range(2 * (1 + WAITING_PER_SLOT))
        ]
        # Both slots are busy once two hashes have started in their threads.
        for _ in range(2):
            await asyncio.to_thread(started.acquire)
        with pytest.raises(HashingBusy):
            await hashing.run(slow_hash, 99)
        release.set()
        assert sorted(await asyncio.gather(*admitted)) == list(range(len(admitted)))
        # Once the queue has drained, hashing is admitted again.
        assert await hashing.run(slow_hash, 7) == 7

    asyncio.run(scenario())
