"""Passwords, login tokens and app secrets: how they are made, stored and checked.

Passwords are chosen by people, so they are stored as slow argon2id hashes.
Tokens and app secrets are 256 random bits chosen by the server: nobody can
guess them, so a fast SHA-256 digest is as safe for them and keeps checking
a token on every request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended costs


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that an unknown id costs
    as much time as a wrong password and the two cannot be told apart."""
    return _hasher.hash("contacthub: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True only for a stored hash that matches; None (no such user) costs the same time."""
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(password_hash)


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_secret() -> str:
    """A fresh token or app secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored in place of a token or app secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
