"""The phone fast path never disagrees with libphonenumber's full parse.

`fast_reading` may decline (None), but whenever it answers, the full parse of
the same reading must give the same stored number. The generated numbers
start from libphonenumber's own example number of every region and type and
are mutated the ways people mistype or reformat them (changed digits, one
digit more or less, a trunk prefix, a country code, an international prefix),
so they mix valid and invalid numbers of every region. The default run checks
100,000 readings; CONTACTHUB_SOAK=1 checks 3,000,000.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from contacthub.domain import phones
from contacthub.domain.fields import FieldInvalid
from contacthub.domain.phones import SUPPORTED_REGIONS, fast_reading, full_reading

READINGS = 3_000_000 if os.environ.get("CONTACTHUB_SOAK") else 100_000
NUMBER_TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
]


def example_numbers() -> list[tuple[str, int, str]]:
    """(region, country code, national significant number) for every region's examples."""
    examples = []
    for region in sorted(SUPPORTED_REGIONS):
        for number_type in NUMBER_TYPES:
            number = phonenumbers.example_number_for_type(region, number_type)
            if number is not None:
                national = phonenumbers.national_significant_number(number)
                examples.append((region, number.country_code, national))
    return examples


def mutated(national: str, rng: random.Random) -> str:
    digits = list(national)
    match rng.randrange(6):
        case 0:
            pass
        case 1 | 2:  # other subscribers of the same range
            for _ in range(rng.randint(1, 4)):
                digits[rng.randrange(len(digits))] = str(rng.randrange(10))
        case 3:
            digits.insert(rng.randrange(len(digits) + 1), str(rng.randrange(10)))
        case 4:
            if len(digits) > 1:
                del digits[rng.randrange(len(digits))]
        case _:
            digits.insert(0, rng.choice("0123456789"))
    return "".join(digits)


def readings(count: int, seed: int = 20261127) -> Iterator[tuple[str, str | None]]:
    rng = random.Random(seed)
    examples = example_numbers()
    for _ in range(count):
        region, country_code, national = rng.choice(examples)
        number = mutated(national, rng)
        match rng.randrange(5):
            case 0 | 1:
                yield f"{country_code}{number}", None
            case 2:
                yield number, region
            case 3:  # national digits as people also write them: with trunk or country code
                yield rng.choice(["0", "00", "011", str(country_code)]) + number, region
            case _:  # a number of one country read under another's region
                yield number, rng.choice(examples)[0]


def test_fast_path_agrees_with_the_full_parse_whenever_it_answers() -> None:
    answered = valid = 0
    for digits, region in readings(READINGS):
        fast = fast_reading(digits, region)
        if fast is not None:
            answered += 1
            assert fast == full_reading(digits, region), (digits, region)
        elif full_reading(digits, region) is not None:
            valid += 1
    valid += answered
    print(f"phone-fast-path: readings={READINGS} valid={valid} fast_answered={answered}")
    # The fast path must be worth having: it answers most of the valid readings itself.
    assert answered > 0.6 * valid


def test_normalise_phone_answers_as_it_would_without_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = list(readings(20_000, seed=7))
    with_fast_path = [_stored_or_none(digits, region) for digits, region in cases]
    monkeypatch.setattr(phones, "fast_reading", lambda digits, region: None)
    without = [_stored_or_none(digits, region) for digits, region in cases]
    assert with_fast_path == without


def _stored_or_none(digits: str, region: str | None) -> str | None:
    try:
        return phones.normalise_phone(digits, region)
    except FieldInvalid:
        return None


def test_is_valid_number_answers_as_libphonenumber_does() -> None:
    """Both ways: every number the library finds valid, and only those, in every region."""
    rng = random.Random(11)
    examples = example_numbers()
    valid = 0
    for _ in range(READINGS):
        _, country_code, national = rng.choice(examples)
        number = mutated(national, rng).lstrip("0")
        if rng.randrange(4) == 0:  # the right digits under a neighbouring calling code
            country_code = rng.choice(examples)[1]
        if not number:
            continue
        expected = phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=country_code, national_number=int(number))
        )
        assert phones.is_valid_number(country_code, number) == expected, (country_code, number)
        valid += expected
    # Both answers must be common for the comparison to mean something.
    assert 0.2 * READINGS < valid < 0.8 * READINGS
