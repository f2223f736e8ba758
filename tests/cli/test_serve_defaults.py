"""What `contacthub serve` picks when not told: one worker per CPU, within PostgreSQL's limits."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from contacthub.cli import main
from contacthub.server import serving
from contacthub.server.bounded_http import BoundedHttpToolsProtocol


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 2), (3, 3), (4, 4), (64, 4)])
def test_one_worker_per_cpu_at_most_four(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int
) -> None:
    monkeypatch.setattr(main.os, "sched_getaffinity", lambda _pid: set(range(cpus)))
    assert main.default_workers() == workers


@pytest.mark.parametrize(("url", "interval"), [("sqlite", 0.0001), ("postgres", None)])
def test_the_served_process_is_tuned_for_its_backend(
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    url: str,
    interval: float | None,
) -> None:
    database_url = (
        f"sqlite:///{tmp_path / 'tuned.db'}"
        if url == "sqlite"
        else request.getfixturevalue("postgres_database")
    )
    monkeypatch.setenv("CONTACTHUB_DATABASE_URL", database_url)
    before_interval, before_thresholds = sys.getswitchinterval(), gc.get_threshold()
    try:
        app = serving.served_app()
        assert sys.getswitchinterval() == pytest.approx(interval or before_interval)
        assert gc.get_threshold() == serving.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        app.state.context.database.dispose()
    finally:
        sys.setswitchinterval(before_interval)
        gc.set_threshold(*before_thresholds)
        gc.unfreeze()


def test_the_served_process_bounds_request_heads_by_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONTACTHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'heads.db'}")
    monkeypatch.setenv("CONTACTHUB_MAX_HEADER_BYTES", "12345")
    monkeypatch.setenv("CONTACTHUB_MAX_HEADERS", "42")
    for name in ("max_header_bytes", "max_headers"):  # restored after the test
        monkeypatch.setattr(BoundedHttpToolsProtocol, name, getattr(BoundedHttpToolsProtocol, name))
    before_interval, before_thresholds = sys.getswitchinterval(), gc.get_threshold()
    try:
        app = serving.served_app()
        assert BoundedHttpToolsProtocol.max_header_bytes == 12345
        assert BoundedHttpToolsProtocol.max_headers == 42
        app.state.context.database.dispose()
    finally:
        sys.setswitchinterval(before_interval)
        gc.set_threshold(*before_thresholds)
        gc.unfreeze()
