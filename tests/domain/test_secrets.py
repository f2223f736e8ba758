"""Passwords (argon2id), and tokens and app secrets (random, stored as SHA-256)."""

from __future__ import annotations

import base64
import re

import pytest

from contacthub.domain.secrets import (
    digest,
    digest_matches,
    hash_password,
    new_secret,
    password_needs_rehash,
    verify_password,
)

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def password_hash() -> str:
    # argon2 is slow on purpose: hash once for the module.
    return hash_password(PASSWORD)


def test_passwords_are_hashed_with_argon2id(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert not password_needs_rehash(password_hash)


def test_hashes_are_salted() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_the_right_password_verifies(password_hash: str) -> None:
    assert verify_password(password_hash, PASSWORD) is True


@pytest.mark.parametrize(
    "attempt",
    ["", "correct horse batter", "Correct horse battery", PASSWORD + " ", " " + PASSWORD],
)
def test_a_wrong_password_does_not_verify(password_hash: str, attempt: str) -> None:
    assert verify_password(password_hash, attempt) is False


def test_non_ascii_passwords_verify_exactly() -> None:
    stored = hash_password("пароль-密码-🔑")
    assert verify_password(stored, "пароль-密码-🔑") is True
    assert verify_password(stored, "пароль-密码-") is False


@pytest.mark.parametrize(
    "attempt",
    # The dummy hash's own password must not let an unknown user in either.
    [PASSWORD, "", "contacthub: no such user"],
)
def test_an_unknown_user_never_verifies(attempt: str) -> None:
    assert verify_password(None, attempt) is False


@pytest.mark.parametrize("stored", ["not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$garbage"])
def test_a_corrupt_stored_hash_does_not_verify(stored: str) -> None:
    assert verify_password(stored, PASSWORD) is False


def test_digest_is_sha256_hex() -> None:
    # The SHA-256 test vector of FIPS 180-2 for "abc".
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("secret", ["", "a", "token-ü-🔑", "x" * 10_000])
def test_digest_is_stable_and_64_hex_characters(secret: str) -> None:
    value = digest(secret)
    assert value == digest(secret)
    assert re.fullmatch(r"[0-9a-f]{64}", value)


def test_different_secrets_have_different_digests() -> None:
    assert digest("secret-a") != digest("secret-b")


def test_digest_matches() -> None:
    secret = new_secret()
    stored = digest(secret)
    assert digest_matches(secret, stored) is True
    assert digest_matches(secret + "x", stored) is False
    assert digest_matches(secret, stored.upper()) is False
    assert digest_matches(secret, "") is False


def test_new_secret_carries_256_random_bits() -> None:
    secret = new_secret()
    # 32 bytes in unpadded base64url: 43 characters of the URL-safe alphabet.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32


def test_new_secrets_are_unique_and_every_bit_varies() -> None:
    samples = [new_secret() for _ in range(10_000)]
    assert len(set(samples)) == len(samples)
    # Each of the 256 bits should be set in about half the samples; a constant
    # or biased part would cut the entropy. 500 off is 10 standard deviations.
    values = [int.from_bytes(base64.urlsafe_b64decode(s + "="), "big") for s in samples]
    for bit in range(256):
        ones = sum(value >> bit & 1 for value in values)
        assert 4_500 < ones < 5_500, (bit, ones)


def test_an_empty_stored_hash_never_matches() -> None:
    # An empty hash must not fall through to the dummy hash used for unknown users.
    assert verify_password("", "contacthub: no such user") is False
