"""Reading a dashboard form: refused when a browser says another site sent it, bounded before
it is parsed.

Starlette parses up to 1,000 fields of 1 MiB each, and spools file parts to
disk without limit, before a route can look at the CSRF token. Here the body
is refused on its Content-Length when that is over the form's limit, and
counted as it streams in otherwise, so no form costs more than its limit in
memory or on disk; the parser's own counts are set to what the form needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

# What a browser's Sec-Fetch-Site says of a request this site's own page made
# ("none": the user's own doing, such as a bookmark). "same-site" is refused:
# a sibling subdomain may be someone else's.
_OWN_FETCHES = frozenset({"same-origin", "none"})


class CrossSite(Exception):
    """A browser says that a page of another site sent this form."""


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class Unreadable(Exception):
    """The form is not one this page takes (too many fields, a file where none goes...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FormShape:
    """What one form may hold: its bytes, its fields and files, and the bytes of one field."""

    limit: int
    max_fields: int
    max_files: int = 0
    max_part_size: int = 16 * 1024


def from_another_site(request: Request) -> bool:
    """Whether the browser says a page of another site made this request.

    Sec-Fetch-Site, sent by every current browser and out of any page's reach,
    is believed alone; without it, an Origin must name this host. With
    neither the sender is no browser (or a very old one) and only the CSRF
    token applies. The rule of Go's net/http CrossOriginProtection.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in _OWN_FETCHES
    origin = request.headers.get("origin")
    if origin is None:
        return False
    # "null" (a sandboxed page, a redirect from elsewhere) names no host and is refused.
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


async def read_form(request: Request, shape: FormShape) -> FormData:
    """The form, or CrossSite, TooLarge or Unreadable; nothing over `shape.limit` is read."""
    if from_another_site(request):
        raise CrossSite
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > shape.limit:
        raise TooLarge(shape.limit)
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > shape.limit:
                # The parser closes (and so deletes) what it spooled when the stream fails.
                raise TooLarge(shape.limit)
        return message

    bounded = Request(request.scope, counted)
    try:
        return await bounded.form(
            max_files=shape.max_files,
            max_fields=shape.max_fields,
            max_part_size=shape.max_part_size,
        )
    except HTTPException as error:  # Starlette's word on a malformed or overfull form
        raise Unreadable(error.detail) from None
