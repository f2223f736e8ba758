"""A request's line and headers are bounded: past the bound, 431 and a closed connection.

The attack: one socket sends a header that never ends. httptools alone takes
it all (a 300 MiB header was taken after 111 s, the process 400 MiB larger,
/healthz stalled meanwhile). Here a real `contacthub serve` must refuse it
soon after CONTACTHUB_MAX_HEADER_BYTES, grow by little, and keep answering
/healthz on another connection throughout (its slowest answer is printed). Headers past
CONTACTHUB_MAX_HEADERS are refused too; a large but allowed head is served,
on a kept-alive connection again and again, and pipelined.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import SHARED_SERVER_ENV, Server

MAX_HEADER_BYTES = 64 * 1024  # the default of CONTACTHUB_MAX_HEADER_BYTES
MAX_HEADERS = 100  # the default of CONTACTHUB_MAX_HEADERS
ATTACK_BYTES = 8 * 1024 * 1024  # how much of the endless header the attacker sends at most
ATTACKS = 20  # one after the other, each on a connection of its own
CHUNK = 16 * 1024
# What may pass the bound before the client sees the refusal: what is in flight in the
# sockets' buffers when the server closes (the client's send buffer is kept small).
IN_FLIGHT = 1024 * 1024
# A frozen event loop, not the 100 ms target: a timed assertion would fail on a busy
# machine; the figure printed (docs/security.md) is the measurement.
HEALTHZ_BOUND_SECONDS = 1.0
# The server's growth while attacked: its bound, its buffers, and what /healthz allocates.
RSS_GROWTH_BOUND = 4 * 1024 * 1024


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def head_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp(f"heads-{request.param}")
    server = Server(
        f"sqlite:///{directory / 'heads.db'}", env=SHARED_SERVER_ENV, workers=request.param
    )
    server.start(directory / "server.log")
    yield server
    server.stop()


@dataclass
class Watch:
    """/healthz, asked again and again on a connection of its own; the server's memory."""

    server: Server
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    peak_rss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def rss(self) -> int:
        assert self.server.process is not None
        process = psutil.Process(self.server.process.pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=5) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get("/healthz").status_code
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                self.latencies.append(time.monotonic() - started)
                if status != 200:
                    self.failures.append(f"/healthz answered {status}")
                self.peak_rss = max(self.peak_rss, self.rss())

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=10)


@dataclass
class Refusal:
    sent: int  # bytes of the request sent when the refusal was seen
    seconds: float
    answer: bytes  # what the server wrote back before closing (empty if reset first)


def send_until_refused(server: Server, head: bytes, endless: bytes, limit: int) -> Refusal | None:
    """Send `head`, then `endless` again and again up to `limit` bytes, until the server
    answers or closes; None if it took everything without a word."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
        sent = 0
        data = head
        while sent < limit:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                taken = sock.send(data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += taken
            data = data[taken:] or endless
        else:
            # Everything went out: a refusal now would be the bound's, if far too late.
            readable, _, _ = select.select([sock], [], [], 1)
            if not readable:
                return None
        seconds = time.monotonic() - started
        return Refusal(sent, seconds, read_answer(sock))


def read_answer(sock: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def test_an_endless_header_is_refused_soon_after_the_bound(head_server: Server) -> None:
    watch = Watch(head_server)
    before = watch.rss()
    watch.start()
    refusals: list[Refusal] = []
    try:
        answered = time.monotonic() + 10
        while not watch.latencies and time.monotonic() < answered:
            time.sleep(0.01)  # poll: the watch has answered once, the attacks may begin
        for _ in range(ATTACKS):
            refusal = send_until_refused(
                head_server,
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ",
                b"a" * CHUNK,
                ATTACK_BYTES,
            )
            assert refusal is not None, f"the server took {ATTACK_BYTES} bytes of headers"
            refusals.append(refusal)
        during = len(watch.latencies)
    finally:
        watch.stop()
    for refusal in refusals:
        assert refusal.sent <= MAX_HEADER_BYTES + IN_FLIGHT
        assert refusal.answer == b"" or refusal.answer.startswith(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        ), refusal.answer[:200]
    growth = watch.peak_rss - before
    assert growth < RSS_GROWTH_BOUND, f"the server grew by {growth} bytes"
    assert not watch.failures, watch.failures[:5]
    assert during > 1, "/healthz was not answered while attacked"
    assert max(watch.latencies) < HEALTHZ_BOUND_SECONDS, max(watch.latencies)
    print(
        f"\nATTACK endless-header workers={head_server.workers} attacks={ATTACKS}"
        f" max_sent_before_refusal={max(r.sent for r in refusals)}"
        f" max_refused_after_ms={max(r.seconds for r in refusals) * 1000:.0f}"
        f" answered_431={sum(r.answer.startswith(b'HTTP/1.1 431') for r in refusals)}"
        f" rss_growth_kib={growth // 1024} healthz_requests={len(watch.latencies)}"
        f" healthz_max_ms={max(watch.latencies) * 1000:.1f}"
    )


def raw_request(server: Server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        return read_answer(sock)


def headers(count: int, size: int = 10) -> bytes:
    return b"".join(b"X-H%d: %s\r\n" % (n, b"v" * size) for n in range(count))


def test_more_headers_than_the_bound_are_refused(head_server: Server) -> None:
    # Host and Connection count: 100 header lines in all pass, 101 do not.
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
    allowed = raw_request(head_server, request % headers(MAX_HEADERS - 2))
    assert allowed.startswith(b"HTTP/1.1 200 "), allowed[:200]
    refused = raw_request(head_server, request % headers(MAX_HEADERS - 1))
    assert refused.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), refused[:200]
    head, _, body = refused.partition(b"\r\n\r\n")
    assert b"\r\nconnection: close\r\n" in head.lower() + b"\r\n"
    assert body == b'{"code":431,"msg":"Request header fields too large"}'
    # Many tiny headers within the byte bound are refused as well, whatever their number.
    many = raw_request(head_server, request % headers(5000, size=1))
    assert many.startswith(b"HTTP/1.1 431 "), many[:200]


def test_a_large_allowed_head_is_served_again_on_a_kept_alive_connection(
    head_server: Server,
) -> None:
    """40 KiB of headers, three times on one connection: the count starts again each time."""
    large = {f"X-Pad-{n}": "p" * 4000 for n in range(10)}
    connection = http.client.HTTPConnection("127.0.0.1", head_server.port, timeout=10)
    try:
        sockets = []
        for _ in range(3):
            connection.request("GET", "/healthz", headers=large)
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            sockets.append(connection.sock)
        assert sockets[0] is sockets[1] is sockets[2]  # one connection, kept alive
    finally:
        connection.close()


def test_pipelined_requests_with_large_heads_are_all_served(head_server: Server) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % headers(10, size=4000)
    last = one.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nConnection: close\r\n")
    answers = raw_request(head_server, one * 3 + last)
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 4, answers[:300]


def test_a_head_over_the_bound_in_one_piece_is_refused(head_server: Server) -> None:
    """Not endless, only too large: sent at once, with its end."""
    answer = raw_request(
        head_server,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
        % headers(20, size=4000),
    )
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_the_bounds_are_the_settings_in_every_worker(tmp_path: Path) -> None:
    """CONTACTHUB_MAX_HEADER_BYTES and CONTACTHUB_MAX_HEADERS reach the processes uvicorn spawns."""
    server = Server(
        f"sqlite:///{tmp_path / 'bounds.db'}",
        env={
            **SHARED_SERVER_ENV,
            "CONTACTHUB_MAX_HEADER_BYTES": "16384",
            "CONTACTHUB_MAX_HEADERS": "20",
        },
        workers=2,
    )
    server.start(tmp_path / "server.log")
    try:
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
        # Connections go to either worker: several of each kind reach both.
        for _ in range(8):
            assert raw_request(server, request % headers(18)).startswith(b"HTTP/1.1 200 ")
            assert raw_request(server, request % headers(19)).startswith(b"HTTP/1.1 431 ")
            assert raw_request(server, request % headers(3, size=4000)).startswith(b"HTTP/1.1 200 ")
            refused = raw_request(server, request % headers(5, size=4000))
            assert refused == b"" or refused.startswith(b"HTTP/1.1 431 "), refused[:100]
    finally:
        server.stop()
