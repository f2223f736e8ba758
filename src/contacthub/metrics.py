"""Prometheus metrics: requests by route and status, latency, contacts written.

One process keeps its metrics in prometheus_client's default registry. When
PROMETHEUS_MULTIPROC_DIR names a directory (`contacthub serve --workers N`
makes a fresh one), every worker writes its values to files there and
`exposition()` sums them over all workers, whichever worker is asked.
"""

from __future__ import annotations

import os
from functools import cache

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import Scope

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# The label of every request that matched no route: a random path must not
# become a label value of its own.
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"})
_OTHER_METHOD = "other"

# 1 ms .. 10 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CONTACT_OPERATIONS = ("created", "updated", "deleted")

REQUESTS = Counter(
    "contacthub_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "contacthub_http_request_duration_seconds",
    "Time from receiving an HTTP request to the end of its response, by method and route.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
CONTACTS_WRITTEN = Counter(
    "contacthub_contacts_written",
    "Contacts written, by operation: created, updated or deleted.",
    ["operation"],
)
# Each series' child is looked up once: by its labels it cost ~8 µs a request.
# Made at start-up, the written counters are exported at 0 from the start (in
# multiprocess mode a series that was never touched is not exported at all).
_WRITTEN = {
    operation: CONTACTS_WRITTEN.labels(operation=operation) for operation in CONTACT_OPERATIONS
}


def record_contacts_written(operation: str, count: int) -> None:
    """Count `count` contacts `created`, `updated` or `deleted` (after the write committed)."""
    if operation not in _WRITTEN:
        raise ValueError(f"operation must be one of {CONTACT_OPERATIONS}, not {operation!r}")
    if count:  # adding 0 still costs a locked write to the shared file under --workers
        _WRITTEN[operation].inc(count)


def exposition() -> bytes:
    """Every metric in the Prometheus text format: this process's, or all workers' summed."""
    if not os.environ.get(MULTIPROC_DIR_ENV):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count and time an answered HTTP request (an observer of api.middleware.ObservingMiddleware).

    Labelled by the route it matched and its final status.
    """
    requests, latency = _request_series(_method_label(scope), _route_label(scope), status)
    requests.inc()
    latency.observe(seconds)


@cache  # few keys: known methods, declared routes (else "unmatched"), the statuses answered
def _request_series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    return (
        REQUESTS.labels(method=method, route=route, status=str(status)),
        LATENCY.labels(method=method, route=route),
    )


def _method_label(scope: Scope) -> str:
    method = str(scope.get("method", ""))
    return method if method in _METHODS else _OTHER_METHOD


def _route_label(scope: Scope) -> str:
    # The router leaves the route it chose (fully, or by path only: a 405) in
    # the scope; its `path` is the template, such as /v3/contact/add.
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
