"""The rejected rows of dashboard imports, kept on disk for their organization to download.

Each import writes its rejected rows, as the download will give them, to a
gzip file of its own in a directory only the server's user may enter (0700;
files 0600), named by the organization and a random id: the download finds a
file only under the organization of the session asking. Repeated reasons
compress to almost nothing, so a file stays well below the upload it came
from; it is cut off at the upload's size all the same (the rows after are
counted, not kept). Files go after KEEP_SECONDS, or sooner, oldest first, when
all of them together pass the directory's budget.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from contacthub.spreadsheet import inert_cell

logger = logging.getLogger("contacthub.web")

KEEP_SECONDS = 3600
_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_SUFFIX = ".csv.gz"


def directory() -> Path:
    """The directory of the kept files, shared by every process of this user on this host."""
    path = Path(tempfile.gettempdir()) / f"contacthub-rejected-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    found = path.lstat()
    # In a shared /tmp another user could have made it first, to read what lands there.
    if (
        not stat.S_ISDIR(found.st_mode)
        or found.st_uid != os.getuid()
        or stat.S_IMODE(found.st_mode) != 0o700
    ):
        raise RuntimeError(f"{path} must be a directory of this user's with mode 0700")
    return path


def sweep(budget: int, now: float | None = None) -> None:
    """Delete the files older than KEEP_SECONDS, then the oldest until the rest fit `budget`."""
    now = time.time() if now is None else now
    kept: list[tuple[float, int, Path]] = []
    for path in directory().glob(f"*{_SUFFIX}"):
        try:
            found = path.stat()
        except FileNotFoundError:  # swept by another process meanwhile
            continue
        if now - found.st_mtime > KEEP_SECONDS:
            path.unlink(missing_ok=True)
        else:
            kept.append((found.st_mtime, found.st_size, path))
    total = sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept):
        if total <= budget:
            break
        path.unlink(missing_ok=True)
        total -= size


def _path(app_id: int, file_id: str) -> Path:
    return directory() / f"{app_id}-{file_id}{_SUFFIX}"


class RejectedFile:
    """The rejected rows of one import, written as they are found, up to `limit` bytes on disk."""

    def __init__(self, app_id: int, headers: list[str], limit: int) -> None:
        self.id = secrets.token_urlsafe(16)
        self.path = _path(app_id, self.id)
        self.limit = limit
        self.kept = 0
        self.dropped = 0
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._disk: IO[bytes] = os.fdopen(descriptor, "wb")
        self._gzip = gzip.GzipFile(fileobj=self._disk, mode="wb", compresslevel=1)
        self._line = io.StringIO()
        self._csv = csv.writer(self._line)
        self._write(["line", "reason", *headers])

    def _write(self, cells: list[object]) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._csv.writerow([inert_cell(cell) for cell in cells])
        self._gzip.write(self._line.getvalue().encode("utf-8"))

    def add(self, rows: Iterable[tuple[int, str, list[str]]]) -> None:
        """(line, reason, values as in the file) of rows rejected, in line order."""
        for line, reason, values in rows:
            # Once full it stays full, so that the kept rows are the first ones.
            if self.dropped or self._disk.tell() > self.limit:
                self.dropped += 1
                continue
            self._write([line, reason, *values])
            self.kept += 1

    def close(self) -> None:
        self._gzip.close()
        self._disk.close()

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def open_kept(app_id: int, file_id: str) -> gzip.GzipFile | None:
    """The rejected rows kept under that id for that organization, uncompressed; else None."""
    if not _ID.fullmatch(file_id):
        return None
    path = _path(app_id, file_id)
    try:
        if time.time() - path.stat().st_mtime > KEEP_SECONDS:
            return None
        return gzip.open(path, "rb")
    except FileNotFoundError:
        return None
