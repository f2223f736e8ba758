"""E-mail addresses: syntax only, no DNS; the domain is lower-cased, the local part kept."""

from __future__ import annotations

from typing import Any

import pytest

from contacthub.domain.emails import normalise_email
from contacthub.domain.fields import FieldInvalid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("asha@example.com", "asha@example.com"),
        # Local parts may be case-sensitive (RFC 5321 §2.4), so they are kept as sent.
        ("Asha.Rao@Example.COM", "Asha.Rao@example.com"),
        ("ANN@EXAMPLE.COM", "ANN@example.com"),
        ("first.last+tag@Sub.EXAMPLE.org", "first.last+tag@sub.example.org"),
        ("o'brien_x-y@example.co.uk", "o'brien_x-y@example.co.uk"),
        ("  asha@example.com\n", "asha@example.com"),
        ("x@MÜNCHEN.de", "x@münchen.de"),
        ("用户@例子.广告", "用户@例子.广告"),
        # No DNS look-up: a domain nobody registered is still well-formed.
        (
            "someone@no-such-domain-contacthub-test.com",
            "someone@no-such-domain-contacthub-test.com",
        ),
    ],
)
def test_valid_addresses_are_normalised(value: str, expected: str) -> None:
    assert normalise_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("plainaddress", id="no-at"),
        pytest.param("@example.com", id="no-local-part"),
        pytest.param("asha@", id="no-domain"),
        pytest.param("asha@@example.com", id="two-ats"),
        pytest.param("as ha@example.com", id="space-in-local-part"),
        pytest.param("asha@example", id="domain-without-dot"),
        pytest.param(".asha@example.com", id="leading-dot"),
        pytest.param("as..ha@example.com", id="double-dot"),
        pytest.param("asha@example.com.", id="trailing-dot"),
        pytest.param("asha@-example.com", id="hyphen-after-at"),
        pytest.param("asha@example.invalid", id="special-use-domain"),
        pytest.param("asha@[127.0.0.1]", id="ip-literal"),
        pytest.param("Asha <asha@example.com>", id="display-name"),
        pytest.param("asha@exa\x00mple.com", id="nul"),
    ],
)
def test_invalid_addresses_are_refused(value: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        normalise_email(value)
    assert caught.value.msg.startswith("is not a valid email address")


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"], ids=["null", "empty", "blank", "ws"])
def test_absent_forms_mean_no_address(value: Any) -> None:
    assert normalise_email(value) is None


@pytest.mark.parametrize("value", [0, 1, True, False, ["a@example.com"], {"a": "b"}, 1.5])
def test_non_strings_are_refused(value: Any) -> None:
    with pytest.raises(FieldInvalid) as caught:
        normalise_email(value)
    assert caught.value.msg == "must be a string or null"
