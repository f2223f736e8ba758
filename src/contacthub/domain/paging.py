"""Pages of contacts: the `limit`, the `search`, and the sealed `page_state` cursor.

The cursor carries the position of the last contact of a page in creation
order, so the next page starts strictly after it (keyset paging): contacts
added or deleted meanwhile never shift the contacts that stay. It is sealed
(encrypted and authenticated) with the server's own key, so that a client
can neither forge one, nor use one issued to another organization or for
another search, nor read from it anything about other organizations.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from contacthub.domain.contacts import parse_contact_id
from contacthub.domain.fields import FieldInvalid, integer_in_range, is_absent
from contacthub.domain.search import SearchTerm, parse_search
from contacthub.errors import InvalidRequest, Problem

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_MAX_CURSOR_LENGTH = 512
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_NOT_ISSUED = "is not a page_state this server issued for this search"


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What `v3/contact/get` asks for: one contact, or a page after a position."""

    contact_id: str | None = None
    limit: int = DEFAULT_LIMIT
    after: int = 0
    search: SearchTerm | None = None


class PageStateCodec:
    """Seals and opens page_state cursors with one key, shared by all server processes."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode("ascii"))

    def seal(self, *, app_id: int, search: SearchTerm | None, position: int) -> str:
        payload = orjson.dumps([app_id, _search_digest(search), position])
        return self._fernet.encrypt(payload).decode("ascii")

    def open(self, value: Any, *, app_id: int, search: SearchTerm | None) -> int:
        if not isinstance(value, str):
            raise FieldInvalid("must be a string or null")
        if len(value) > _MAX_CURSOR_LENGTH or not _is_canonical_base64(value):
            raise FieldInvalid(_NOT_ISSUED)
        try:
            issued_app, issued_search, position = orjson.loads(self._fernet.decrypt(value))
        except (InvalidToken, ValueError, TypeError):
            raise FieldInvalid(_NOT_ISSUED) from None
        if issued_app != app_id or issued_search != _search_digest(search):
            raise FieldInvalid(_NOT_ISSUED)
        return int(position)


def _is_canonical_base64(value: str) -> bool:
    """Fernet's decoder skips stray characters and unused bits; an issued cursor has none."""
    if not _BASE64URL.fullmatch(value):
        return False
    try:
        return base64.urlsafe_b64encode(base64.urlsafe_b64decode(value)).decode() == value
    except (binascii.Error, ValueError):
        return False


def _search_digest(search: SearchTerm | None) -> str:
    if search is None:
        return ""
    return hashlib.sha256(search.folded.encode()).hexdigest()[:16]


def page_request(body: dict[str, Any], *, codec: PageStateCodec, app_id: int) -> PageRequest:
    """A get's body as a command, or InvalidRequest listing every problem."""
    request, problems = parse_page_request(body, codec=codec, app_id=app_id)
    InvalidRequest.raise_if(problems)
    return request


def parse_page_request(
    body: dict[str, Any], *, codec: PageStateCodec, app_id: int
) -> tuple[PageRequest, list[Problem]]:
    """Read `contact_id`, `limit`, `search` and `page_state`; a contact id overrides the rest."""
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
    search = None
    search_ok = True
    try:
        search = parse_search(body.get("search"))
    except FieldInvalid as exc:
        problems.append(Problem("search", exc.msg))
        search_ok = False
    after = 0
    # A cursor is bound to its search, so it can only be judged beside a valid one.
    if not is_absent(body.get("page_state")) and search_ok:
        try:
            after = codec.open(body["page_state"], app_id=app_id, search=search)
        except FieldInvalid as exc:
            problems.append(Problem("page_state", exc.msg))
    return PageRequest(limit=limit, after=after, search=search), problems
