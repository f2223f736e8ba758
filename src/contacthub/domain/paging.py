"""Pages of contacts: the `limit`, and the opaque `page_state` cursor.

The cursor carries the position of the last contact of a page in creation
order, so the next page starts strictly after it (keyset paging): contacts
added or deleted meanwhile never shift the contacts that stay.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from contacthub.domain.contacts import parse_contact_id
from contacthub.domain.fields import FieldInvalid, integer_in_range, is_absent
from contacthub.errors import Problem

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_CURSOR_PREFIX = "c1:"
_MAX_CURSOR_LENGTH = 128
_MAX_POSITION = 2**63 - 1  # the largest BIGINT


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What `v3/contact/get` asks for: one contact, or a page after a position."""

    contact_id: str | None = None
    limit: int = DEFAULT_LIMIT
    after: int = 0


def encode_page_state(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_page_state(value: Any) -> int:
    """The position a page_state carries; anything the server could not have issued is refused."""
    if not isinstance(value, str):
        raise FieldInvalid("must be a string or null")
    position = _position(value) if len(value) <= _MAX_CURSOR_LENGTH else None
    # Re-encoding must give the input back: this refuses stray characters that
    # a lenient base64 decoder would skip, and positions no row can have.
    if position is None or position > _MAX_POSITION or encode_page_state(position) != value:
        raise FieldInvalid("is not a page_state this server issued")
    return position


def _position(value: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    digits = text.removeprefix(_CURSOR_PREFIX)
    if digits == text or not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    return int(digits)


def parse_page_request(body: dict[str, Any]) -> tuple[PageRequest, list[Problem]]:
    """Read `contact_id`, `limit` and `page_state`; with a contact id the others are ignored."""
    problems: list[Problem] = []
    if not is_absent(body.get("contact_id")):
        try:
            return PageRequest(contact_id=parse_contact_id(body["contact_id"])), []
        except FieldInvalid as exc:
            return PageRequest(), [Problem("contact_id", exc.msg)]

    limit = DEFAULT_LIMIT
    if body.get("limit") is not None:
        try:
            limit = integer_in_range(body["limit"], low=1, high=MAX_LIMIT)
        except FieldInvalid as exc:
            problems.append(Problem("limit", exc.msg))
    after = 0
    if not is_absent(body.get("page_state")):
        try:
            after = decode_page_state(body["page_state"])
        except FieldInvalid as exc:
            problems.append(Problem("page_state", exc.msg))
    return PageRequest(limit=limit, after=after), problems
