"""The access log: one line per request, written in batches of whole lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Scope

from contacthub.edge import access_log
from contacthub.edge.access_log import FLUSH_AFTER_SECONDS, AccessLog, access_line
from contacthub.edge.middleware import ObservingMiddleware


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
    assert "/x\\nINFO:\\x20forged" in line


# A whole line: every field printable ASCII without spaces or quotes (backslashes start
# escapes), the request line quoted.
FIELD = r"[!#-~]+"
LINE = re.compile(
    rf'(?P<client>{FIELD}) - "(?P<method>{FIELD}) (?P<target>{FIELD}) '
    rf'HTTP/(?P<version>{FIELD})" (?P<status>[0-9]{{3}}) [0-9]+\.[0-9]ms id=(?P<id>{FIELD})\n'
)

# What a client may get into a field: every control character (C0, DEL, C1 with NEL),
# the Unicode line and paragraph separators, quotes, spaces, backslashes, non-ASCII text.
HOSTILE = [
    *(chr(code) for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]),
    "\u2028", "\u2029", '"', " ", "\\", "\\n", "\\x0a", "é", "😀", "\ud800", "\ufeff",
    'evil - "GET /admin HTTP/1.1" 200 0.1ms id=forged\n127.0.0.1:1 - "GET /',
]  # fmt: skip


def _scope(**fields: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "client": ("10.0.0.7", 5123),
        "method": "GET",
        "path": "/v3/contact/get",
        "query_string": b"",
        "http_version": "1.1",
        "state": {"request_id": "abc-123"},
    }
    scope.update(fields)
    return scope


def _unescaped(field: str) -> str:
    return field.encode("ascii").decode("unicode_escape")


@pytest.mark.parametrize("text", HOSTILE)
def test_a_client_controlled_field_cannot_break_or_forge_a_line(text: str) -> None:
    """Host, port, method, path, query, HTTP version, request id: each escaped, none lost."""
    query = f"q={text}".encode("utf-8", "surrogatepass")  # as sent; read back as Latin-1
    cases = [
        ("client", _scope(client=(f"evil{text}", 1)), f"evil{text}:1"),
        ("client", _scope(client=("10.0.0.7", f"1{text}")), f"10.0.0.7:1{text}"),
        ("method", _scope(method=f"GET{text}"), f"GET{text}"),
        ("target", _scope(path=f"/x{text}"), f"/x{text}"),
        ("target", _scope(query_string=query), f"/v3/contact/get?{query.decode('latin-1')}"),
        ("version", _scope(http_version=f"1.1{text}"), f"1.1{text}"),
        ("id", _scope(state={"request_id": f"id{text}"}), f"id{text}"),
    ]
    for field, scope, written in cases:
        line = access_line(scope, 200, 0.001)
        match = LINE.fullmatch(line)
        assert match, (field, line)
        assert _unescaped(match[field]) == written, (field, line)


def test_a_forged_forwarded_host_stays_in_its_field() -> None:
    forged = 'evil - "GET /admin HTTP/1.1" 200 0.1ms id=x'
    line = access_line(_scope(client=(forged, 0)), 404, 0.001)
    match = LINE.fullmatch(line)
    assert match, line
    assert _unescaped(match["client"]) == f"{forged}:0"
    assert line.count('"') == 2
    assert match["target"] == "/v3/contact/get"


def test_a_query_byte_0x85_is_escaped_not_passed_as_next_line() -> None:
    """The query's bytes are read as Latin-1: 0x85 would be U+0085, NEL, a line break."""
    line = access_line(_scope(query_string=b"a=\x85b\xe2\x80\xa8"), 200, 0.001)
    match = LINE.fullmatch(line)
    assert match, line
    assert match["target"] == "/v3/contact/get?a=\\x85b\\xe2\\x80\\xa8"
    assert line.isascii()
    assert len(line.splitlines()) == 1


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
        await asyncio.wait_for(flushed(), timeout=10)

    async def flushed() -> None:
        # The flush is due FLUSH_AFTER_SECONDS after the first line: wait until it has run.
        while log.flush_pending:
            await asyncio.sleep(FLUSH_AFTER_SECONDS / 10)

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
