"""Time as contacthub stores and sends it: UTC milliseconds since the epoch.

Every use case reads the time through `now_ms()`. Tests that need time to pass
(a throttle's window, a token's expiry) move it themselves with `using()`
instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _system_ms() -> int:
    return time.time_ns() // 1_000_000


_source: Callable[[], int] = _system_ms


def now_ms() -> int:
    return _source()


@contextmanager
def using(source: Callable[[], int]) -> Iterator[None]:
    """Read the time from `source` (milliseconds) inside the block, in this process."""
    global _source  # noqa: PLW0603 - the one place the time's source is swapped
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
