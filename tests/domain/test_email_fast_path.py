"""The e-mail fast path never disagrees with email-validator.

`fast_normalised` may decline (None), but whenever it answers, email-validator
must accept the same address and normalise it to the same string. Addresses
are built from parts that are valid, borderline (length limits, reserved
names, punycode, case) or invalid (quotes, spaces, non-ASCII, stray dots and
hyphens), so both answers are well exercised. The default run checks 100,000
addresses; CONTACTHUB_SOAK=1 checks 2,000,000.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from contacthub.domain import emails
from contacthub.domain.emails import fast_normalised
from contacthub.domain.fields import FieldInvalid

ADDRESSES = 2_000_000 if os.environ.get("CONTACTHUB_SOAK") else 100_000
LOCAL_PARTS = [
    "asha", "Asha.Rao", "a", "x" * 64, "x" * 65, "first+tag", "o'neil", "a..b", ".a", "a.",
    "POSTMASTER", "Support", "a b", '"quoted"', "ü", "#!$%&'*+-/=?^_`{|}~", "", "a@b",
]  # fmt: skip
DOMAIN_LABELS = [
    "example", "Example", "MAIL", "co", "in", "com", "x" * 63, "x" * 64, "a-b", "-ab", "ab-",
    "xn--bcher-kva", "ab--cd", "123", "1", "localhost", "test", "onion", "local", "arpa",
    "invalid", "bücher", "", "a_b", "uk",
]  # fmt: skip


def generated(count: int, seed: int = 20261127) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        local = rng.choice(LOCAL_PARTS)
        if rng.random() < 0.5:
            local += str(rng.randrange(10_000))
        labels = [rng.choice(DOMAIN_LABELS) for _ in range(rng.choice((1, 2, 2, 3, 4)))]
        if rng.random() < 0.7:
            labels[-1] = rng.choice(["com", "org", "IN", "co.uk", "io"])
        address = f"{local}@{'.'.join(labels)}"
        if rng.random() < 0.02:
            address = address * 3  # far past every length limit
        yield address


def library_normal_form(address: str) -> str | None:
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def test_fast_path_agrees_with_email_validator_whenever_it_answers() -> None:
    answered = valid = 0
    for address in generated(ADDRESSES):
        fast = fast_normalised(address)
        expected = library_normal_form(address)
        valid += expected is not None
        if fast is not None:
            answered += 1
            assert fast == expected, address
    print(f"email-fast-path: addresses={ADDRESSES} valid={valid} fast_answered={answered}")
    assert answered > 0.6 * valid


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09.-_+@'\"é ü[]\\"), max_size=40))
def test_fast_path_agrees_on_arbitrary_text(text: str) -> None:
    fast = fast_normalised(text)
    if fast is not None:
        assert fast == library_normal_form(text)


def test_normalise_email_answers_as_it_would_without_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = list(generated(5_000, seed=7))
    with_fast_path = [_normalised_or_problem(address) for address in cases]
    monkeypatch.setattr(emails, "fast_normalised", lambda text: None)
    assert with_fast_path == [_normalised_or_problem(address) for address in cases]


def _normalised_or_problem(address: str) -> str | None:
    try:
        return emails.normalise_email(address)
    except FieldInvalid as problem:
        return f"invalid: {problem}"
