"""Properties of the domain rules, over generated inputs (hypothesis)."""

from __future__ import annotations

from typing import Any

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from contacthub.domain.contacts import CONTACT_FIELDS, parse_contact_batch
from contacthub.domain.fields import FieldInvalid
from contacthub.domain.phones import SUPPORTED_REGIONS, normalise_phone

REGIONS = sorted(SUPPORTED_REGIONS)
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid number of some region, written as people write it, and that region."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
        )
    )
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        example = phonenumbers.example_number(region)
    if example is None or not phonenumbers.is_valid_number(example):
        return "+14155552671", "US"
    text = phonenumbers.format_number(example, draw(st.sampled_from(FORMATS)))
    separator = draw(st.sampled_from([" ", "-", ".", ""]))
    return text.replace(" ", separator), region


@settings(max_examples=400)
@given(written_numbers())
def test_normalising_twice_gives_the_same_number(written: tuple[str, str]) -> None:
    text, region = written
    once = normalise_phone(text, region)
    assert once.isdigit()
    # The stored form is international: read again without a region it is unchanged.
    assert normalise_phone(once) == once
    assert normalise_phone("+" + once, region) == once


@settings(max_examples=300)
@given(st.sampled_from([*CONTACT_FIELDS, "nickname"]), JSON_VALUES)
def test_any_json_value_in_any_field_is_accepted_or_named_never_raised(
    field: str, value: Any
) -> None:
    item = {"phone_no": "919200000000", "first_name": "A", "last_name": "B", field: value}
    drafts, problems = parse_contact_batch([item], default_region="IN")
    assert (len(drafts), bool(problems)) in {(1, False), (0, True)}
    assert all(problem.index == 0 for problem in problems)
    if problems:
        assert field in {problem.field for problem in problems}


@settings(max_examples=300)
@given(JSON_VALUES, st.sampled_from([None, "IN", "US"]))
def test_normalise_phone_refuses_with_field_invalid_only(value: Any, region: str | None) -> None:
    try:
        result = normalise_phone(value, region)
    except FieldInvalid:
        return
    assert result.isdigit()
