"""The head bound's count, however the bytes of pipelined requests are cut into reads.

tests/e2e/test_request_headers.py attacks a real server; here the protocol is
fed in-process, read by read, so that every way of cutting requests apart (a
head across reads, a read holding the end of one request and the start of
the next) is tried, and the count checked after every read.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.server import ServerState

from contacthub.config import Settings
from contacthub.server.bounded_http import SLICE_BYTES, BoundedHttpToolsProtocol, Data

MAX_HEADER_BYTES = 4 * SLICE_BYTES
MAX_HEADERS = 20


class Transport(asyncio.Transport):
    """What the protocol writes, and whether it closed the connection.

    As asyncio's own transports do once the connection is lost, which closing
    it with nothing left to send does at once, it drops what is written after.
    """

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.closed:
            self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def echo_length(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 with the length of the body it read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = str(len(body)).encode()
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(autouse=True)
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("max_header_bytes", "max_headers"):
        monkeypatch.setattr(BoundedHttpToolsProtocol, name, getattr(BoundedHttpToolsProtocol, name))
    BoundedHttpToolsProtocol.bound_by(
        Settings(max_header_bytes=MAX_HEADER_BYTES, max_headers=MAX_HEADERS)
    )


def request(pad: int, body: int) -> bytes:
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nX-Pad: %s\r\n\r\n"
    return head % (body, b"p" * pad) + b"b" * body


class Counting(BoundedHttpToolsProtocol):
    """Counts the bytes it lets the parser see."""

    fed = 0

    def parse(self, data: Data, feed: Callable[[Data], None]) -> None:
        def counted(piece: Data) -> None:
            self.fed += len(piece)
            feed(piece)

        super().parse(data, counted)


@dataclass
class Fed:
    transport: Transport
    counts: list[int]  # the head count after every read
    parsed: int  # bytes the parser saw


def feed(data: bytes, cuts: list[int]) -> Fed:
    """Feed `data` to the protocol, read by read, cut at `cuts`."""

    async def run() -> Fed:
        config = Config(app=echo_length, http=Counting, lifespan="off")
        state = ServerState()
        protocol = Counting(
            config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop()
        )
        transport = Transport()
        protocol.connection_made(transport)
        counts = []
        edges = [0, *sorted(set(cuts)), len(data)]
        for start, end in itertools.pairwise(edges):
            if start < end and not transport.closed:
                protocol.data_received(data[start:end])
                counts.append(protocol._head_bytes)
        while state.tasks:  # every answer written, the pipelined ones in turn
            await asyncio.gather(*state.tasks)
        return Fed(transport, counts, protocol.fed)

    return asyncio.run(run())


requests = st.lists(
    st.tuples(
        st.integers(0, MAX_HEADER_BYTES - SLICE_BYTES - 100), st.integers(0, 3 * SLICE_BYTES)
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(requests=requests, cuts=st.lists(st.integers(0, 200_000), max_size=12))
def test_pipelined_requests_within_the_bound_are_all_answered(
    requests: list[tuple[int, int]], cuts: list[int]
) -> None:
    data = b"".join(request(pad, body) for pad, body in requests)
    fed = feed(data, [cut % (len(data) + 1) for cut in cuts])
    assert not fed.transport.closed
    answers = bytes(fed.transport.written).split(b"HTTP/1.1 ")[1:]
    assert [answer.startswith(b"200 ") for answer in answers] == [True] * len(requests)
    bodies = [answer.rpartition(b"\r\n\r\n")[2] for answer in answers]
    assert bodies == [str(body).encode() for _, body in requests]
    assert fed.parsed == len(data)
    assert max(fed.counts) <= MAX_HEADER_BYTES


@settings(max_examples=100, deadline=None)
@given(
    before=requests,
    over=st.integers(MAX_HEADER_BYTES, 3 * MAX_HEADER_BYTES),
    cuts=st.lists(st.integers(0, 400_000), max_size=12),
)
def test_a_head_over_the_bound_is_refused_wherever_the_reads_end(
    before: list[tuple[int, int]], over: int, cuts: list[int]
) -> None:
    allowed = b"".join(request(pad, body) for pad, body in before)
    data = allowed + request(over, 0)
    fed = feed(data, [cut % (len(data) + 1) for cut in cuts])
    assert fed.transport.closed
    assert (
        bytes(fed.transport.written)
        .rpartition(b"HTTP/1.1 ")[2]
        .startswith(b"431 Request Header Fields Too Large\r\n")
    )
    # What the parser held of the head over the bound: at most the bound.
    assert fed.parsed - len(allowed) <= MAX_HEADER_BYTES
    assert max(fed.counts) <= MAX_HEADER_BYTES


def test_one_header_too_many_is_refused() -> None:
    head = b"GET /x HTTP/1.1\r\nHost: a\r\n%s\r\n"
    allowed = feed(head % b"".join(b"X-%d: v\r\n" % n for n in range(MAX_HEADERS - 1)), [])
    assert allowed.transport.written.startswith(b"HTTP/1.1 200 ")
    assert not allowed.transport.closed
    refused = feed(head % b"".join(b"X-%d: v\r\n" % n for n in range(MAX_HEADERS)), [])
    assert refused.transport.written.startswith(b"HTTP/1.1 431 ")
    assert refused.transport.closed
