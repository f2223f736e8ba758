"""Phone numbers: which inputs are accepted, and the one E.164 form they are stored in.

Every expected value below was checked against `phonenumbers` directly
(parse + is_valid_number), not taken from `normalise_phone` itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from contacthub.domain.fields import FieldInvalid
from contacthub.domain.phones import normalise_phone, normalise_region

ONLY_DIGITS = "must contain only digits"
TOO_LONG = "is too long to be a phone number"
NOT_VALID = "is not a valid phone number"

VALID = [
    # (input, default_region, stored form)
    # India: the contract's own example, and every separator it names.
    pytest.param("+91 92000-00000", None, "919200000000", id="IN-contract-example"),
    pytest.param("+91.92000.00000", None, "919200000000", id="IN-dots"),
    pytest.param("(+91) 92000 00000", None, "919200000000", id="IN-parens-around-plus"),
    pytest.param("  +91 (920) 000-0000  ", None, "919200000000", id="IN-outer-spaces"),
    pytest.param("0091 92000 00000", None, "919200000000", id="IN-00-prefix"),
    pytest.param("919200000000", None, "919200000000", id="IN-bare-with-country-code"),
    pytest.param("92000 00000", "IN", "919200000000", id="IN-national"),
    pytest.param("092000 00000", "IN", "919200000000", id="IN-national-trunk-0"),
    pytest.param("022 2345 6789", "IN", "912223456789", id="IN-national-landline"),
    # A national reading that fails falls back to the international one.
    pytest.param("919200000000", "IN", "919200000000", id="IN-country-code-with-region"),
    pytest.param("44 20 7946 0000", "IN", "442079460000", id="GB-digits-under-IN-region"),
    # JSON integers are accepted as if they were their decimal digits.
    pytest.param(919200000000, None, "919200000000", id="IN-json-integer"),
    pytest.param(9200000000, "IN", "919200000000", id="IN-json-integer-national"),
    # United States
    pytest.param("+1 (415) 555-2671", None, "14155552671", id="US-formatted"),
    pytest.param("(415) 555-2671", "US", "14155552671", id="US-national"),
    pytest.param("1 415 555 2671", "US", "14155552671", id="US-national-with-1"),
    pytest.param("+1 800 555 0199", None, "18005550199", id="US-toll-free"),
    # 201 555 0123 is valid in the US, and +20 1555 0123 is valid in Egypt:
    # with a default region the national reading is tried first ...
    pytest.param("201 555 0123", "US", "12015550123", id="US-national-beats-EG"),
    # ... without one, the digits carry their country code ...
    pytest.param("2015550123", None, "2015550123", id="EG-without-region"),
    # ... and a leading + or 00 is always international, whatever the region.
    pytest.param("+20 1555 0123", "US", "2015550123", id="EG-plus-under-US-region"),
    pytest.param("0020 1555 0123", "US", "2015550123", id="EG-00-under-US-region"),
    pytest.param("0044 20 7946 0000", "US", "442079460000", id="GB-00-under-US-region"),
    # United Kingdom
    pytest.param("+44 20 7946 0000", None, "442079460000", id="GB-london"),
    pytest.param("020 7946 0000", "GB", "442079460000", id="GB-national-trunk-0"),
    pytest.param("+44 (0)20 7946 0000", None, "442079460000", id="GB-bracketed-trunk-0"),
    pytest.param("07911 123456", "GB", "447911123456", id="GB-mobile-national"),
    # Germany: 151 2345 6789 is a German mobile nationally and a Texan number
    # internationally, the mirror image of the US/Egypt case.
    pytest.param("+49 30 123456", None, "4930123456", id="DE-berlin"),
    pytest.param("030 123456", "DE", "4930123456", id="DE-national"),
    pytest.param("15123456789", "DE", "4915123456789", id="DE-national-beats-US"),
    pytest.param("+1 512 345 6789", "DE", "15123456789", id="US-plus-under-DE-region"),
    # France
    pytest.param("+33 1 42 68 53 00", None, "33142685300", id="FR-paris"),
    pytest.param("01 42 68 53 00", "FR", "33142685300", id="FR-national"),
    pytest.param("06.12.34.56.78", "FR", "33612345678", id="FR-mobile-dots"),
    # Italy: the leading 0 of a landline is part of the number and is kept.
    pytest.param("+39 06 1234 5678", None, "390612345678", id="IT-leading-zero-kept"),
    pytest.param("06 1234 5678", "IT", "390612345678", id="IT-national-leading-zero"),
    pytest.param("0039 06 12345678", None, "390612345678", id="IT-00-leading-zero"),
    pytest.param("+39 312 345 6789", None, "393123456789", id="IT-mobile"),
    # Brazil
    pytest.param("+55 (11) 98765-4321", None, "5511987654321", id="BR-mobile"),
    pytest.param("(11) 98765-4321", "BR", "5511987654321", id="BR-national"),
    # Australia
    pytest.param("+61 2 9374 4000", None, "61293744000", id="AU-sydney"),
    pytest.param("0412 345 678", "AU", "61412345678", id="AU-mobile-national"),
    # Singapore: no trunk prefix at all.
    pytest.param("+65 6123 4567", None, "6561234567", id="SG-landline"),
    pytest.param("6123 4567", "SG", "6561234567", id="SG-national"),
]


@pytest.mark.parametrize(("value", "region", "expected"), VALID)
def test_valid_numbers_are_stored_as_e164_digits(
    value: Any, region: str | None, expected: str
) -> None:
    assert normalise_phone(value, region) == expected


INVALID = [
    # (input, default_region, key part of the message)
    pytest.param(None, None, "is required", id="none"),
    pytest.param(None, "IN", "is required", id="none-with-region"),
    pytest.param("", None, "must not be empty", id="empty"),
    pytest.param(" - ( ) . ", None, "must not be empty", id="separators-only"),
    # JSON true/false are not numbers, whatever Python's bool subclassing says.
    pytest.param(True, None, "must be a string", id="bool-true"),
    pytest.param(False, "IN", "must be a string", id="bool-false"),
    pytest.param(919200000000.0, None, "must be a string", id="float"),
    pytest.param(["+919200000000"], None, "must be a string", id="list"),
    pytest.param({"phone": "+919200000000"}, None, "must be a string", id="dict"),
    pytest.param(-919200000000, None, ONLY_DIGITS, id="negative-integer"),
    pytest.param("+", None, ONLY_DIGITS, id="plus-only"),
    pytest.param("00", None, ONLY_DIGITS, id="00-only"),
    pytest.param("++91 92000 00000", None, ONLY_DIGITS, id="double-plus"),
    pytest.param("91+9200000000", None, ONLY_DIGITS, id="plus-inside"),
    pytest.param("+91 92000 0000O", None, ONLY_DIGITS, id="letter-O-for-zero"),
    pytest.param("1-800-FLOWERS", "US", ONLY_DIGITS, id="vanity-letters"),
    pytest.param("tel:+919200000000", None, ONLY_DIGITS, id="tel-uri"),
    pytest.param("+1 415 555 2671 x123", None, ONLY_DIGITS, id="extension"),
    pytest.param("+91/92000/00000", None, ONLY_DIGITS, id="slash-not-a-separator"),
    # libphonenumber would read these digits; the contract allows ASCII only.
    pytest.param("٩١٩٢٠٠٠٠٠٠٠٠", None, ONLY_DIGITS, id="arabic-indic-digits"),
    pytest.param("+٩١٩٢٠٠٠٠٠٠٠٠", None, ONLY_DIGITS, id="plus-arabic-indic-digits"),
    pytest.param("+９１９２００００００００", None, ONLY_DIGITS, id="fullwidth-digits"),
    pytest.param("+9192000000²", None, ONLY_DIGITS, id="superscript-two"),
    pytest.param("²", None, ONLY_DIGITS, id="superscript-only"),
    # More than 17 digits can never be valid and is refused before parsing.
    pytest.param("+" + "1" * 18, None, TOO_LONG, id="plus-18-digits"),
    pytest.param("00" + "4" * 18, None, TOO_LONG, id="00-18-digits"),
    pytest.param("9" * 18, "IN", TOO_LONG, id="national-18-digits"),
    pytest.param(10**18, None, TOO_LONG, id="integer-19-digits"),
    pytest.param("+" + "1" * 17, None, NOT_VALID, id="plus-17-digits-reaches-parser"),
    # Wrong lengths for their country.
    pytest.param("+91 92000 0000", None, NOT_VALID, id="IN-one-digit-short"),
    pytest.param("+91 92000 000001", None, NOT_VALID, id="IN-one-digit-long"),
    pytest.param("92000 0000", "IN", NOT_VALID, id="IN-national-short"),
    pytest.param("+1 202 555 012", None, NOT_VALID, id="US-short"),
    pytest.param("+1 202 555 01234", None, NOT_VALID, id="US-long"),
    pytest.param("+44 20 7946 0", None, NOT_VALID, id="GB-short"),
    pytest.param("+44 7911 12345", None, NOT_VALID, id="GB-mobile-short"),
    pytest.param("+49 30 12", None, NOT_VALID, id="DE-short"),
    pytest.param("+65 1234 5678", None, NOT_VALID, id="SG-bad-leading-digit"),
    pytest.param("1234 5678", "SG", NOT_VALID, id="SG-national-bad-leading-digit"),
    pytest.param("+55 11 8765 43210", None, NOT_VALID, id="BR-bad-mobile"),
    # Dropping the Italian leading zero makes a different, invalid number.
    pytest.param("+39 6 1234 5678", None, NOT_VALID, id="IT-leading-zero-dropped"),
    # Without a default region the digits must carry a country code.
    pytest.param("92000 00000", None, NOT_VALID, id="national-without-region"),
    pytest.param("020 7946 0000", None, NOT_VALID, id="GB-trunk-without-region"),
    pytest.param("+0 919200000000", None, NOT_VALID, id="country-code-0"),
]


@pytest.mark.parametrize(("value", "region", "fragment"), INVALID)
def test_invalid_numbers_are_refused(value: Any, region: str | None, fragment: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        normalise_phone(value, region)
    assert fragment in caught.value.msg


@pytest.mark.parametrize(
    ("value", "expected"),
    [("IN", "IN"), ("in", "IN"), ("iN", "IN"), (" gb ", "GB"), ("us", "US"), ("sg", "SG")],
)
def test_normalise_region_accepts_any_case(value: str, expected: str) -> None:
    assert normalise_region(value) == expected


@pytest.mark.parametrize("value", ["XX", "zz", "UK", "IND", "001", "", "I N", "EU"])
def test_normalise_region_refuses_unknown_codes(value: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        normalise_region(value)
    assert caught.value.msg == f"{value!r} is not a known ISO 3166 alpha-2 region code"
