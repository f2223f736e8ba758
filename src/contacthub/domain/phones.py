"""Phone numbers: what contacthub accepts, and the one form it stores.

libphonenumber (the `phonenumbers` package) decides validity; this module only
decides which readings of the input to offer it, as the contract orders them.

Every reading first tries a fast path: `phonenumbers.parse` spends most of its
time (~16 µs of ~24 µs) on cases a digits-only number cannot have, such as
extensions, letters and punctuation. The fast path splits off the country code
itself and checks the ready number against the library's own metadata, and it
only ever answers "valid" in cases where `parse` would build exactly that
number; in every other case, including every invalid number, the full parse
decides. `tests/domain/test_phone_fast_path.py` checks this on generated
numbers, and that `is_valid_number` below answers as the library's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberDesc

from contacthub.domain.fields import FieldInvalid

# Longest digit string worth parsing: E.164 allows 15 digits, a national
# number with its trunk prefix a couple more. Longer input is never valid, and
# refusing it early keeps the parser's cost bounded.
MAX_DIGITS = 17
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
    if len(digits) > MAX_DIGITS:
        raise FieldInvalid("is too long to be a phone number")

    readings: list[tuple[str, str | None]] = [(digits, None)]
    if default_region is not None and not international:
        readings.insert(0, (digits, default_region))
    for reading_digits, region in readings:
        stored = fast_reading(reading_digits, region) or full_reading(reading_digits, region)
        if stored is not None:
            return stored
    raise FieldInvalid("is not a valid phone number")


def normalise_region(value: str) -> str:
    """An ISO 3166 alpha-2 code, any case, that libphonenumber knows."""
    region = value.strip().upper()
    if region not in SUPPORTED_REGIONS:
        raise FieldInvalid(f"{value!r} is not a known ISO 3166 alpha-2 region code")
    return region


def full_reading(digits: str, region: str | None) -> str | None:
    """The stored form of one reading by libphonenumber's full parse, or None if invalid.

    With a region the digits are read as a national number of it; without
    one, as an international number (country code first).
    """
    number = digits if region is not None else "+" + digits
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(parsed):
        return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"
    return None


def fast_reading(digits: str, region: str | None) -> str | None:
    """What `full_reading` returns, when that is a valid number and cheap to be sure of; else None.

    None means "ask the full parse", never "invalid".
    """
    if region is None:
        country_code, national = _split_country_code(digits)
        rules = _rules_for_country_code(country_code)
    else:
        rules = _rules_for_region(region)
        if rules is None or rules.reads_as_international(digits):
            return None
        country_code, national = rules.country_code, digits
    # A leading zero is kept by parse as "Italian leading zero" flags, and a
    # national prefix may be stripped: both are the full parse's business.
    if rules is None or len(national) < 2 or national.startswith("0"):
        return None
    if rules.national_prefix is not None and rules.national_prefix.match(national):
        return None
    return f"{country_code}{national}" if is_valid_number(country_code, national) else None


def is_valid_number(country_code: int, national: str) -> bool:
    """`phonenumbers.is_valid_number` of +<country_code><national>, `national` without leading 0.

    The library checks a number against up to ten patterns (one per number
    type) and looks each one up in its cache of compiled expressions: ~19% of
    the CPU of adding 100-contact batches (py-spy). Here the same patterns are
    joined into one expression per region and length, compiled once.
    """
    region = _region_of(country_code, national)
    if region is None:
        return False
    pattern = _known_type_pattern(country_code, region, len(national))
    return pattern is not None and pattern.fullmatch(national) is not None


def _region_of(country_code: int, national: str) -> str | None:
    """The region the library assigns the number to (`region_code_for_number`)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        leading_digits = _leading_digits(region)
        if leading_digits is not None:
            if leading_digits.match(national):
                return region
        else:
            pattern = _known_type_pattern(country_code, region, len(national))
            if pattern is not None and pattern.fullmatch(national):
                return region
    return None


@cache
def _leading_digits(region: str) -> re.Pattern[str] | None:
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
    return _compiled(metadata.leading_digits) if metadata is not None else None


# libphonenumber's number types in the order `_number_type_helper` tries them;
# a number is valid when it matches the region's general description and one
# of them. Mobile is left out when its pattern is fixed line's.
_NUMBER_TYPE_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line",
)  # fmt: skip


@cache
def _known_type_pattern(country_code: int, region: str, length: int) -> re.Pattern[str] | None:
    """One expression whose full match means "valid in `region`", for numbers of `length` digits.

    None when no number of that length is valid there.
    """
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        and country_code != phonenumbers.country_code_for_valid_region(region)
    ):
        return None
    general = _pattern_if_admits(metadata.general_desc, length)
    descs = [getattr(metadata, name) for name in _NUMBER_TYPE_DESCS]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    types = [f"(?:{p})" for desc in descs if (p := _pattern_if_admits(desc, length)) is not None]
    if general is None or not types:
        return None
    # The look-ahead is the general description's full match; the alternatives the types'.
    return re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(types)})")


def _pattern_if_admits(desc: PhoneNumberDesc | None, length: int) -> str | None:
    """The description's pattern, if libphonenumber's `_is_number_matching_desc` would try it."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return str(desc.national_number_pattern)


def _split_country_code(digits: str) -> tuple[int, str]:
    """libphonenumber's own rule: the shortest prefix (1 to 3 digits) that is a calling code."""
    if not digits.startswith("0"):
        for length in (1, 2, 3):
            if int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
                return int(digits[:length]), digits[length:]
    return 0, digits


@dataclass(frozen=True, slots=True)
class _ParseRules:
    """The parts of a region's metadata that decide how parse reads digits-only input."""

    country_code: int
    national_prefix: re.Pattern[str] | None
    international_prefix: re.Pattern[str] | None

    @classmethod
    def of(cls, metadata: PhoneMetadata | None) -> _ParseRules | None:
        if metadata is None or metadata.country_code is None:
            return None
        return cls(
            metadata.country_code,
            _compiled(metadata.national_prefix_for_parsing),
            _compiled(metadata.international_prefix),
        )

    def reads_as_international(self, digits: str) -> bool:
        """Would parse read these digits as dialled abroad, or as starting with a country code?"""
        dialled_abroad = self.international_prefix is not None and bool(
            self.international_prefix.match(digits)
        )
        return dialled_abroad or digits.startswith(str(self.country_code))


def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


@cache
def _rules_for_country_code(country_code: int) -> _ParseRules | None:
    if country_code == 0:
        return None
    region = phonenumbers.region_code_for_country_code(country_code)
    return _ParseRules.of(PhoneMetadata.metadata_for_region_or_calling_code(country_code, region))


@cache
def _rules_for_region(region: str) -> _ParseRules | None:
    return _ParseRules.of(PhoneMetadata.metadata_for_region(region))
