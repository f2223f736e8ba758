"""Search: parsing the search string, the folded keys, and prefix bounds."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from contacthub.domain.fields import FieldInvalid
from contacthub.domain.search import SearchTerm, parse_search, prefix_upper_bound, search_keys


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Ann", SearchTerm("ann", "")),
        ("  ÉMILE ", SearchTerm("émile", "")),
        ("Straße", SearchTerm("strasse", "")),
        ("+91 (920) 0", SearchTerm("+91 (920) 0", "919200")),
        ("a1b2", SearchTerm("a1b2", "12")),
        ("٣٤٥", SearchTerm("٣٤٥", "")),  # only ASCII digits count for the phone
    ],
)
def test_parse_search(value: Any, expected: SearchTerm | None) -> None:
    assert parse_search(value) == expected


@pytest.mark.parametrize(
    ("value", "msg"),
    [
        (5, "must be a string or null"),
        (["a"], "must be a string or null"),
        ("x" * 101, "must be at most 100 characters"),
        ("a\u0000b", "must not contain control characters"),
    ],
)
def test_bad_searches_are_refused(value: Any, msg: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        parse_search(value)
    assert caught.value.msg == msg


def test_search_keys_fold_case_and_split_the_email_domain() -> None:
    assert search_keys(
        first_name="Émile", last_name="STRAßE", company=None, email_id="Émile@Example.ORG"
    ) == {
        "first_name_key": "émile",
        "last_name_key": "strasse",
        "company_key": None,
        "email_key": "émile@example.org",
        "email_domain_key": "example.org",
    }


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("ann", "ano"),
        ("a", "b"),
        ("z\u00ff", "z\u0100"),
        ("\ud7ff", "\ue000"),  # never a surrogate, which no database can store
        ("ab" + chr(sys.maxunicode), "ac"),
        (chr(sys.maxunicode), None),
        ("", None),
    ],
)
def test_prefix_upper_bound(prefix: str, bound: str | None) -> None:
    assert prefix_upper_bound(prefix) == bound


@pytest.mark.parametrize("text", ["ann", "anna", "ann\U0010ffff", "ann zzz"])
def test_every_string_with_the_prefix_is_inside_the_bounds(text: str) -> None:
    bound = prefix_upper_bound("ann")
    assert bound is not None
    assert "ann" <= text < bound
    assert not ("ann" <= "ano" < bound)
