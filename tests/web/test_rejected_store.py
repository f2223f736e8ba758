"""The files that keep imports' rejected rows: private, bounded, swept."""

from __future__ import annotations

import csv
import io
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest

from contacthub.web import rejected


@pytest.fixture(autouse=True)
def private_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _read(app_id: int, file_id: str) -> list[list[str]]:
    kept = rejected.open_kept(app_id, file_id)
    assert kept is not None
    with kept:
        return list(csv.reader(io.StringIO(kept.read().decode())))


def test_a_file_is_private_and_found_only_under_its_organization() -> None:
    kept = rejected.RejectedFile(7, ["Phone", "=Name"], limit=1 << 20)
    kept.add([(2, "phone_no: must not be empty", ["", "@Asha"])])
    kept.close()
    assert stat.S_IMODE(kept.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(rejected.directory().stat().st_mode) == 0o700
    assert _read(7, kept.id) == [
        ["line", "reason", "Phone", "'=Name"],
        ["2", "phone_no: must not be empty", "", "'@Asha"],
    ]
    assert rejected.open_kept(8, kept.id) is None
    assert rejected.open_kept(7, "../" + kept.id[3:]) is None


def test_a_file_stops_at_its_limit_and_counts_the_rows_after() -> None:
    kept = rejected.RejectedFile(7, ["Phone"], limit=64 * 1024)
    # Random digits do not compress: the limit is reached within a few thousand rows.
    rows = [(line, "bad", [os.urandom(32).hex()]) for line in range(2, 10_002)]
    kept.add(rows)
    kept.close()
    assert kept.kept + kept.dropped == 10_000
    assert kept.dropped > 0
    # Past the limit by what the compressor held back at most: one deflate block.
    assert kept.path.stat().st_size < 2 * 64 * 1024
    lines = _read(7, kept.id)
    assert [int(line[0]) for line in lines[1:]] == list(range(2, 2 + kept.kept))


def test_old_files_go_and_the_oldest_go_first_past_the_budget() -> None:
    files = []
    for age in (2 * rejected.KEEP_SECONDS, 300, 200, 100):
        kept = rejected.RejectedFile(7, ["Phone"], limit=1 << 20)
        kept.add([(2, "bad", [os.urandom(4000).hex()])])
        kept.close()
        then = time.time() - age
        os.utime(kept.path, (then, then))
        files.append(kept)
    size = files[1].path.stat().st_size
    rejected.sweep(budget=2 * size + size // 2)
    assert [kept.path.exists() for kept in files] == [False, False, True, True]
    assert rejected.open_kept(7, files[0].id) is None


def test_a_directory_someone_else_could_read_is_refused(private_temp: Path) -> None:
    (private_temp / f"contacthub-rejected-{os.getuid()}").mkdir(mode=0o755)
    with pytest.raises(RuntimeError, match="mode 0700"):
        rejected.RejectedFile(7, ["Phone"], limit=1 << 20)
