"""Search: what a search string matches, and the folded keys stored to find it fast.

Names, company and e-mail match by prefix after Unicode case folding; an
e-mail matches at the start of the address or of its domain; the phone
number matches anywhere, by the digits of the search string alone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from contacthub.domain.fields import FieldInvalid, optional_text

MAX_SEARCH_LENGTH = 100
_SURROGATES = range(0xD800, 0xE000)


@dataclass(frozen=True, slots=True)
class SearchTerm:
    folded: str
    digits: str


def fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def parse_search(value: Any) -> SearchTerm | None:
    """The search as given in a request; None when absent, blank or null."""
    try:
        text = optional_text(value, max_length=MAX_SEARCH_LENGTH)
    except FieldInvalid:
        if value is not None and not isinstance(value, str):
            raise FieldInvalid("must be a string or null") from None
        raise
    if text is None:
        return None
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    return SearchTerm(folded=text.casefold(), digits=digits)


def search_keys(
    *, first_name: str, last_name: str, company: str | None, email_id: str | None
) -> dict[str, str | None]:
    """The folded columns stored beside a contact, which prefix searches compare against."""
    email = fold(email_id)
    return {
        "first_name_key": fold(first_name),
        "last_name_key": fold(last_name),
        "company_key": fold(company),
        "email_key": email,
        "email_domain_key": email.rpartition("@")[2] if email else None,
    }


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (code point order).

    `key >= prefix AND key < bound` is a prefix match that a plain index can
    answer, with no LIKE escaping; None means no bound exists.
    """
    while prefix:
        code = ord(prefix[-1]) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= sys.maxunicode:
            return prefix[:-1] + chr(code)
        prefix = prefix[:-1]
    return None
