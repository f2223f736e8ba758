"""uvicorn's httptools protocol, with each request's line and headers bounded.

httptools (llhttp) puts no limit on a request's head, and joins the pieces of
a long header with `bytes +=`: one socket that sent a 300 MiB header was taken
whole after 111 s, the process 400 MiB larger, /healthz stalled meanwhile.
This protocol counts the bytes that arrive while a request's head (its request
line and headers) is incomplete, and its headers; past `max_header_bytes` or
`max_headers` (CONTACTHUB_MAX_HEADER_BYTES, CONTACTHUB_MAX_HEADERS) it answers
`431` and closes the connection, having held at most the bound.

The parser is fed at most what is left of the bound while a head is incomplete,
and never more than SLICE_BYTES at once: httptools does not say where in the
bytes it was fed a request ended. When one ends inside a piece and the next
begins there (pipelining), that next one is charged the whole piece, at most
SLICE_BYTES more than it sent, so that no head holds more than the bound.

It keeps httptools rather than h11 (whose `h11_max_incomplete_event_size`
bounds the bytes but not the headers' number) for its speed: the benchmarks
depend on it (docs/security.md, "Request headers").
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from contacthub.config import Settings

SLICE_BYTES = 8 * 1024

# What httptools' parser can be fed.
Data: TypeAlias = "bytes | bytearray | memoryview | array[int]"

_DEFAULTS = Settings()
_REFUSAL = b'{"code":431,"msg":"Request header fields too large"}'


class HeadTooLarge(Exception):
    """A request's head is over its bound: answered 431, the connection closed."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; `contacthub serve` passes it to uvicorn as `http`."""

    # Per server process: server/serving.py sets them from the app's settings.
    max_header_bytes: ClassVar[int] = _DEFAULTS.max_header_bytes
    max_headers: ClassVar[int] = _DEFAULTS.max_headers

    @classmethod
    def bound_by(cls, settings: Settings) -> None:
        cls.max_header_bytes = settings.max_header_bytes
        cls.max_headers = settings.max_headers

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser = _BoundedParser(self)
        # As uvicorn sets up its own parser: answer a pipelined request sent before a close.
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self._in_head = True  # no request yet, or one whose headers are not all in
        self._head_bytes = 0  # received for that head so far (at most the bound)
        self._began = False  # a request began in the piece being parsed, after any end
        self._ended = False  # a request ended in the piece being parsed

    def data_received(self, data: bytes) -> None:
        try:
            super().data_received(data)
        except HeadTooLarge:
            self._refuse()

    def parse(self, data: Data, feed: Callable[[Data], None]) -> None:
        """Feed `data` to the parser (`feed`) piece by piece, counting each head's bytes."""
        size = len(data)
        within = not self._in_head or size <= self.max_header_bytes - self._head_bytes
        if size <= SLICE_BYTES and within:
            self._feed(data, size, feed)  # the usual read: one piece
            return
        view = memoryview(data)
        start = 0
        while start < size:
            room = SLICE_BYTES
            if self._in_head:
                room = min(room, self.max_header_bytes - self._head_bytes)
                if room <= 0:
                    raise HeadTooLarge
            piece = view[start : start + room]
            self._feed(piece, len(piece), feed)
            start += len(piece)

    def _feed(self, piece: Data, size: int, feed: Callable[[Data], None]) -> None:
        self._began = self._ended = False
        try:
            feed(piece)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, HeadTooLarge):  # raised in a callback
                raise HeadTooLarge from None
            raise
        if self._in_head:
            if not self._ended:
                self._head_bytes += size
            elif self._began:
                self._head_bytes = size  # that head's share of the piece: all, at most
            if self.headers is not None and len(self.headers) > self.max_headers:
                raise HeadTooLarge

    def on_message_begin(self) -> None:
        self._began = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if len(self.headers) > self.max_headers:
            raise HeadTooLarge
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._head_bytes, self._began, self._ended = True, 0, False, True
        super().on_message_complete()

    def _refuse(self) -> None:
        request_id = os.urandom(16).hex()
        host, port = self.client or ("-", 0)  # the TCP peer: no words of the client's
        self.logger.warning(
            "%s:%d - request line and headers over %d bytes or %d headers: answered 431 id=%s",
            host,
            port,
            self.max_header_bytes,
            self.max_headers,
            request_id,
        )
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(_REFUSAL),
            b"x-request-id: %s\r\n" % request_id.encode("ascii"),
            b"connection: close\r\n\r\n",
            _REFUSAL,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
        # As when the connection is lost: a request still being answered writes no more.
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()


class _BoundedParser(httptools.HttpRequestParser):
    """httptools' request parser, fed through its protocol's count."""

    def __init__(self, protocol: BoundedHttpToolsProtocol) -> None:
        super().__init__(protocol)
        self._protocol = protocol

    def feed_data(self, data: Data) -> None:
        self._protocol.parse(data, super().feed_data)
