"""E-mail addresses: syntax only (no DNS), domain lower-cased.

email-validator decides. Most addresses are plain ASCII (`name@example.com`),
and for those the library's answer is the address with its domain in lower
case, reached after ~20 µs of Unicode and IDNA work that such an address
cannot need. `fast_normalised` gives that answer directly, using the
library's own patterns and limits, and steps aside for anything else: any
non-ASCII, quoting, punycode, reserved names, or an address it would refuse.
`tests/domain/test_email_fast_path.py` checks it against the library.
"""

from __future__ import annotations

from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DNS_LABEL_LENGTH_LIMIT,
    DOMAIN_MAX_LENGTH,
    DOMAIN_NAME_REGEX,
    DOT_ATOM_TEXT,
    DOT_ATOM_TEXT_HOSTNAME,
    EMAIL_MAX_LENGTH,
)

from contacthub.domain.fields import FieldInvalid

# The library's lists, as sets and suffixes that match in one C call each.
_CASE_INSENSITIVE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_SPECIAL_USE_DOMAINS = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_USE_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)


def normalise_email(value: Any) -> str | None:
    """Return the address in normal form, None when absent, or raise FieldInvalid."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldInvalid("must be a string or null")
    text = value.strip()
    if not text:
        return None
    fast = fast_normalised(text)
    if fast is not None:
        return fast
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldInvalid(f"is not a valid email address: {exc}") from None
    return str(result.normalized)


def fast_normalised(text: str) -> str | None:
    """email-validator's normal form of a plain ASCII address it accepts; None to ask it instead."""
    local, at, domain = text.partition("@")
    if not at or len(text) > EMAIL_MAX_LENGTH or len(domain) > DOMAIN_MAX_LENGTH:
        return None
    if not (text.isascii() and DOT_ATOM_TEXT.match(local) and DOT_ATOM_TEXT_HOSTNAME.match(domain)):
        return None
    # "--" marks punycode ("xn--") and reserved label forms: the library's business.
    if "--" in domain or local.lower() in _CASE_INSENSITIVE_MAILBOXES:
        return None
    domain = domain.lower()
    labels = domain.split(".")
    if len(labels) < 2 or not DOMAIN_NAME_REGEX.search(domain):
        return None
    if max(map(len, labels)) > DNS_LABEL_LENGTH_LIMIT:
        return None
    if domain in _SPECIAL_USE_DOMAINS or domain.endswith(_SPECIAL_USE_SUFFIXES):
        return None
    return f"{local}@{domain}"
