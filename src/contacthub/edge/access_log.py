"""One line per HTTP request on standard output, written in batches.

uvicorn's own access log sent every line through the logging module and
wrote it with a system call of its own: with it off, single-contact adds
went ~20% faster (wrk, 16 connections, 2 worker processes). Here a line is
a formatted string appended to a list, and the lines of the last
FLUSH_AFTER_SECONDS are written together, whole lines at most PIPE_BUF bytes
a write, so that the lines of several worker processes sharing one output
never break into each other. A crash loses at most those lines.

A line: client address, request line, status, time taken, request id:

    127.0.0.1:51234 - "POST /v3/contact/add HTTP/1.1" 200 3.1ms id=4f0c…

Every field a client can put words into (the address, which a proxy header may
set, and the method, path, query, HTTP version and request id) is written as
printable ASCII without spaces, quotes or backslashes; anything else is
escaped as Python's `unicode_escape` writes it, `"` as `\\x22` and a space as
`\\x20`. So no client can end a line (not with U+0085 or U+2028 either),
close the quoted request line or start a field of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import select
import sys

from starlette.types import Scope

FLUSH_AFTER_SECONDS = 0.1

# What a field may hold as it is: printable ASCII but the space, `"` and `\\`.
_PLAIN = re.compile(r"[!#-\[\]-~]*")


class AccessLog:
    """The lines of the last FLUSH_AFTER_SECONDS, kept until they are written.

    Used from the event loop (`observe`, an observer of
    api.middleware.ObservingMiddleware); the app's lifespan flushes it when
    the server stops.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._flush_pending = False

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        self._lines.append(access_line(scope, status, seconds))
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(FLUSH_AFTER_SECONDS, self.flush)

    @property
    def flush_pending(self) -> bool:
        """Whether lines wait for a flush that is scheduled."""
        return self._flush_pending

    def flush(self) -> None:
        lines, self._lines, self._flush_pending = self._lines, [], False
        if lines:
            _write_whole_lines(lines)


def access_line(scope: Scope, status: int, seconds: float) -> str:
    host, port = scope.get("client") or ("-", 0)
    target = scope.get("path", "")
    if query := scope.get("query_string", b""):
        target = f"{target}?{query.decode('latin-1')}"
    fields = [
        str(host),
        str(port),
        str(scope.get("method", "-")),
        target,
        str(scope.get("http_version")),
        str((scope.get("state") or {}).get("request_id", "-")),
    ]
    # One check of them all: escaping is for the rare line that needs it.
    if not _PLAIN.fullmatch("".join(fields)):
        fields = [escaped(field) for field in fields]
    host, port, method, target, version, request_id = fields
    return (
        f'{host}:{port} - "{method} {target} HTTP/{version}" '
        f"{status} {seconds * 1000:.1f}ms id={request_id}\n"
    )


def escaped(text: str) -> str:
    """`text` as printable ASCII without spaces or `"`: a field that ends nothing but itself.

    Reversible: `unicode_escape` decoding gives `text` back.
    """
    if _PLAIN.fullmatch(text):
        return text
    return text.encode("unicode_escape").decode("ascii").replace('"', "\\x22").replace(" ", "\\x20")


def _write_whole_lines(lines: list[str]) -> None:
    if sys.stdout is None:
        return
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # replaced, as under pytest
        sys.stdout.write("".join(lines))
        return
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        encoded = line.encode("utf-8", "backslashreplace")
        if chunk and size + len(encoded) > select.PIPE_BUF:
            _write_all(descriptor, b"".join(chunk))
            chunk, size = [], 0
        chunk.append(encoded)
        size += len(encoded)
    _write_all(descriptor, b"".join(chunk))


def _write_all(descriptor: int, data: bytes) -> None:
    # An output that is gone (a closed pipe) must not stop the server.
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(descriptor, data) :]
