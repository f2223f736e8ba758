"""Rules shared by every text and number field of a request."""

from __future__ import annotations

import unicodedata
from typing import Any

# Categories that have no business in a name or a company: control characters
# (Cc, which includes NUL, which PostgreSQL cannot store) and lone surrogates (Cs).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})


class FieldInvalid(ValueError):
    """Raised by a field rule; the caller knows which field and element it was."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


def is_absent(value: Any) -> bool:
    """`null` and `""` both mean "not given" for optional fields."""
    return value is None or value == ""


def required_text(value: Any, *, max_length: int) -> str:
    """A trimmed string of 1 to max_length code points with no control characters."""
    if value is None:
        raise FieldInvalid("is required")
    if not isinstance(value, str):
        raise FieldInvalid("must be a string")
    text = value.strip()
    if not text:
        raise FieldInvalid("must not be empty")
    return _checked_text(text, max_length)


def optional_text(value: Any, *, max_length: int) -> str | None:
    """Like required_text, but null, "" and blank mean absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldInvalid("must be a string or null")
    text = value.strip()
    if not text:
        return None
    return _checked_text(text, max_length)


def _checked_text(text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise FieldInvalid(f"must be at most {max_length} characters")
    if not text.isprintable() and any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text
    ):
        raise FieldInvalid("must not contain control characters")
    return text


def integer_in_range(value: Any, *, low: int, high: int) -> int:
    """A JSON integer in [low, high]. JSON booleans are not integers, whatever Python says."""
    if value is None:
        raise FieldInvalid("is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldInvalid("must be an integer")
    if not low <= value <= high:
        raise FieldInvalid(f"must be between {low} and {high}")
    return value
