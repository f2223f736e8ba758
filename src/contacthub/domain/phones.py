"""Phone numbers: what contacthub accepts, and the one form it stores.

libphonenumber (the `phonenumbers` package) decides validity; this module only
decides which readings of the input to offer it, as the contract orders them.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from contacthub.domain.fields import FieldInvalid

# Longest digit string worth parsing: E.164 allows 15 digits, a national
# number with its trunk prefix a couple more. Longer input is never valid, and
# refusing it early keeps the parser's cost bounded.
_MAX_DIGITS = 17
_SEPARATORS = str.maketrans("", "", " -.()")
SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalise_phone(value: Any, default_region: str | None = None) -> str:
    """Return the number as E.164 digits without the `+`, or raise FieldInvalid.

    A number written with `+` or `00` is always international. Otherwise, with
    a default region, the national reading is tried first and the
    international one second; without one, the digits must include the
    country code.
    """
    if value is None:
        raise FieldInvalid("is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldInvalid("must be a string")
    text = str(value) if isinstance(value, int) else value.translate(_SEPARATORS)
    if not text:
        raise FieldInvalid("must not be empty")

    international = text.startswith(("+", "00"))
    digits = text[1:] if text.startswith("+") else text[2:] if international else text
    if not (digits.isascii() and digits.isdigit()):
        raise FieldInvalid(
            "must contain only digits, with optional spaces, '-', '.', '(', ')' "
            "and a leading '+' or '00'"
        )
    if len(digits) > _MAX_DIGITS:
        raise FieldInvalid("is too long to be a phone number")

    readings: list[tuple[str, str | None]] = [("+" + digits, None)]
    if default_region is not None and not international:
        readings.insert(0, (digits, default_region))
    for number, region in readings:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"
    raise FieldInvalid("is not a valid phone number")


def normalise_region(value: str) -> str:
    """An ISO 3166 alpha-2 code, any case, that libphonenumber knows."""
    region = value.strip().upper()
    if region not in SUPPORTED_REGIONS:
        raise FieldInvalid(f"{value!r} is not a known ISO 3166 alpha-2 region code")
    return region
