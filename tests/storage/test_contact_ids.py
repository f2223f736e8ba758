"""New contact ids: RFC 9562 UUIDv7s, made a batch at a time."""

from __future__ import annotations

import time
import uuid

from contacthub.storage.contacts import new_contact_ids


def test_ids_are_version_7_uuids_of_now_in_both_forms() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = new_contact_ids(1000)
    after_ms = time.time_ns() // 1_000_000
    assert len(ids) == 1000
    for digits, text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.hex == digits
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert before_ms <= parsed.int >> 80 <= after_ms


def test_ids_do_not_repeat_and_use_every_random_bit() -> None:
    ids = [int(digits, 16) for _ in range(200) for digits, _ in new_contact_ids(100)]
    assert len(set(ids)) == len(ids)
    # rand_a (12 bits) and rand_b (62 bits): every one of them is seen both ways.
    random_mask = ((1 << 12) - 1) << 64 | (1 << 62) - 1
    ones = zeros = 0
    for value in ids:
        ones |= value & random_mask
        zeros |= ~value & random_mask
    assert ones == zeros == random_mask


def test_no_ids_for_an_empty_batch() -> None:
    assert new_contact_ids(0) == []
