"""Tools of the dashboard's attack tests: a raw HTTP sender, and a watch on a server's memory and
temporary files while an attack runs.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import h11
import psutil

MiB = 1024 * 1024


@dataclass
class RawAnswer:
    status_code: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the server had taken when it answered (or closed)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def post_raw(
    url: str,
    path: str,
    headers: list[tuple[str, str]],
    chunks: Iterable[bytes],
    *,
    timeout: float = 60,
) -> RawAnswer:
    """POST the body chunk by chunk, stopping as soon as the server answers or stops reading.

    Without a Content-Length among `headers` the body is sent chunked. A server
    that answers early is not made to read the rest, as a real attacker's
    client would not be either; `sent` says how far it got.
    """
    address = urlsplit(url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    framing = [] if any(n.lower() == "content-length" for n, _ in headers) else [
        ("Transfer-Encoding", "chunked")
    ]  # fmt: skip
    connection = h11.Connection(h11.CLIENT)
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    deadline = time.monotonic() + timeout
    sent = 0
    try:
        sock.sendall(
            connection.send(
                h11.Request(
                    method="POST",
                    target=path,
                    headers=[("Host", f"{host}:{port}"), *headers, *framing],
                )
            )
            or b""
        )
        for chunk in chunks:
            pending = connection.send(h11.Data(data=chunk)) or b""
            if not _send_until_answered(sock, pending, deadline):
                break
            sent += len(chunk)
        else:
            if connection.our_state is h11.SEND_BODY:
                _send_until_answered(sock, connection.send(h11.EndOfMessage()) or b"", deadline)
        return _read_answer(sock, connection, sent)
    finally:
        sock.close()


def _send_until_answered(sock: socket.socket, data: bytes, deadline: float) -> bool:
    """Send `data`; False as soon as the server has something to say or has closed."""
    view = memoryview(data)
    while view:
        readable, writable, _ = select.select([sock], [sock], [], deadline - time.monotonic())
        if readable:
            return False
        if not writable:
            raise TimeoutError("the server neither read the body nor answered")
        try:
            view = view[sock.send(view) :]
        except (BrokenPipeError, ConnectionResetError):
            return False
    return True


def _read_answer(sock: socket.socket, connection: h11.Connection, sent: int) -> RawAnswer:
    status, headers, body = 0, {}, bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            try:
                connection.receive_data(sock.recv(65536))
            except ConnectionResetError:
                connection.receive_data(b"")
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = {n.decode().lower(): v.decode() for n, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    return RawAnswer(status, headers, bytes(body), sent)


def multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart/form-data body of (name, filename or None, content) parts."""
    out = bytearray()
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: text/csv\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def temp_bytes(pid: int, temp_dir: Path) -> int:
    """Bytes in `temp_dir`: its files, and those the process holds open there, unlinked or not."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for entry in temp_dir.rglob("*"):
        if entry.is_file():
            stat = entry.stat()
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            if not os.readlink(fd).startswith(str(temp_dir)):
                continue
            stat = fd.stat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    return total


@dataclass
class Watch:
    """Peak RSS and temporary-file bytes of a server process, sampled while a block runs."""

    pid: int
    temp_dir: Path
    interval: float = 0.01
    rss_before: int = 0
    rss_peak: int = 0
    temp_peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def rss_growth(self) -> int:
        return self.rss_peak - self.rss_before

    def sample(self) -> None:
        self.rss_peak = max(self.rss_peak, psutil.Process(self.pid).memory_info().rss)
        self.temp_peak = max(self.temp_peak, temp_bytes(self.pid, self.temp_dir))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Watch:
        self.rss_before = self.rss_peak = psutil.Process(self.pid).memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.sample()


def figure_line(kind: str, **figures: object) -> str:
    """Print a test's figures as one line, `ATTACK <kind> name=value ...`, for docs/security.md."""
    line = " ".join([f"ATTACK {kind}", *(f"{name}={value}" for name, value in figures.items())])
    print(f"\n{line}")
    return line
