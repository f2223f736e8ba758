"""The Idempotency-Key header's form, and what counts as the same request."""

from __future__ import annotations

import pytest

from contacthub.api.idempotency import parse_key, request_digest
from contacthub.errors import InvalidRequest


@pytest.mark.parametrize(
    ("raw", "key"),
    [(None, None), ("k1", "k1"), ("  k1 \t", "k1"), ("a b", "a b"), ("~" * 255, "~" * 255)],
)
def test_keys_are_read_without_surrounding_spaces(raw: str | None, key: str | None) -> None:
    assert parse_key(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "k" * 256, "é", "a\x7fb", "a\x00b"])
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_key(raw)
    assert caught.value.problems[0].field == "Idempotency-Key"


def test_the_same_request_is_equal_json_without_the_token() -> None:
    base = {
        "token": "a",
        "contacts": [{"phone_no": "1", "first_name": "x"}],
        "on_duplicate": "skip",
    }
    reordered = {"on_duplicate": "skip", "contacts": [{"first_name": "x", "phone_no": "1"}]}
    assert request_digest(base) == request_digest({**reordered, "token": "b"})
    assert request_digest(base) != request_digest({**base, "on_duplicate": "update"})
