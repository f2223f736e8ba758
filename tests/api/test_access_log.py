"""The access log: one line per request, written in batches of whole lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Scope

from contacthub.api import access_log
from contacthub.api.access_log import FLUSH_AFTER_SECONDS, AccessLog, access_line
from contacthub.api.middleware import ObservingMiddleware


def test_a_line_names_client_request_status_time_and_request_id() -> None:
    scope = {
        "client": ("10.0.0.7", 5123),
        "method": "POST",
        "path": "/v3/contact/get",
        "query_string": b"a=1",
        "http_version": "1.1",
        "state": {"request_id": "abc-123"},
    }
    assert access_line(scope, 200, 0.0031) == (
        '10.0.0.7:5123 - "POST /v3/contact/get?a=1 HTTP/1.1" 200 3.1ms id=abc-123\n'
    )


def test_a_path_with_a_newline_stays_on_one_line() -> None:
    scope = {"method": "GET", "path": "/x\nINFO: forged", "http_version": "1.1"}
    line = access_line(scope, 404, 0.001)
    assert line.count("\n") == 1
    assert line.endswith("\n")
    assert "/x\\nINFO: forged" in line


def test_every_answer_gets_its_line_with_its_final_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi")

    async def broken(_request: Request) -> PlainTextResponse:
        raise RuntimeError("boom")

    log = AccessLog()
    app = ObservingMiddleware(
        Starlette(routes=[Route("/", hello), Route("/broken", broken)]), observers=[log.observe]
    )

    async def ignore(_message: Message) -> None:
        pass

    async def serve() -> None:
        for path in ("/", "/nowhere", "/broken"):
            with contextlib.suppress(RuntimeError):  # /broken's error, re-raised after its 500
                await app(_http_scope(path), _empty_body, ignore)
        assert capsys.readouterr().out == ""  # not yet: lines wait for the next flush
        await asyncio.sleep(FLUSH_AFTER_SECONDS * 2)

    asyncio.run(serve())
    lines = capsys.readouterr().out.splitlines()
    statuses = [line.split('" ')[1].split()[0] for line in lines]
    assert statuses == ["200", "404", "500"]


def _http_scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def _empty_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def test_lines_go_out_whole_in_writes_of_at_most_pipe_buf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes share one output: a write that ends mid-line could be cut into."""
    writes: list[bytes] = []
    real_write = os.write

    def recording(descriptor: int, data: bytes) -> int:
        writes.append(data)
        return real_write(descriptor, data)

    lines = [f"line {i} {'x' * (i % 300)}\n" for i in range(500)]
    with (tmp_path / "out").open("w") as out:
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(access_log.os, "write", recording)
        access_log._write_whole_lines(lines)
    assert (tmp_path / "out").read_text() == "".join(lines)
    assert len(writes) > 1
    assert all(len(data) <= select.PIPE_BUF and data.endswith(b"\n") for data in writes)
