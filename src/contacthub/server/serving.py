"""The app as `contacthub serve` runs it: in server processes of its own, tuned for them.

Each process bounds the request heads it reads (server/bounded_http.py) by the
app's settings. Those bounds and two more settings are process-wide, so they
are made here, in each server process uvicorn starts, and not in
`create_app`, which tests also call in-process.
Measured with wrk, 16 connections, on 2 cores (docs/benchmarks.md):

- The interpreter's switch interval, 5 ms by default, is how long a thread
  that wants the GIL may wait for the thread holding it. On SQLite, the
  writer thread gives the GIL up for every statement and waited for the
  event loop thread most of the time it held the writer turn: 20 ms of wall
  time for 11 ms of work per group. At 100 µs, 100-contact batches from two
  worker processes went from ~17,000 to ~21,000 contacts/s. On PostgreSQL,
  where a thread per request waits for the database, the same setting made
  them switch so often that batches got 15% slower: it keeps the default.
- The cyclic garbage collector ran a young collection every 700 allocations
  and, every so often, a full one over every object of the process: those
  were the single adds' tail, p99 80 to 100 ms. With the objects of start-up
  frozen (never garbage: modules, the app, SQLAlchemy's metadata) and young
  collections every 20,000 allocations, p99 was 22 to 34 ms and batches 10%
  faster. The memory soak (`make soak`) checks that memory stays flat.
"""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

from contacthub.edge.context import AppContext
from contacthub.server.app import create_app
from contacthub.server.bounded_http import BoundedHttpToolsProtocol

SWITCH_INTERVAL_SECONDS = 0.0001
GC_THRESHOLDS = (20_000, 50, 100)


def served_app() -> FastAPI:
    """uvicorn's factory for `contacthub serve`: the app, and its process tuned."""
    app = create_app()
    context: AppContext = app.state.context
    BoundedHttpToolsProtocol.bound_by(context.settings)
    if context.database.groups_writes:
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app
