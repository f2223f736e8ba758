"""E-mail addresses: syntax only (no DNS), domain lower-cased."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email

from contacthub.domain.fields import FieldInvalid


def normalise_email(value: Any) -> str | None:
    """Return the address in normal form, None when absent, or raise FieldInvalid."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldInvalid("must be a string or null")
    text = value.strip()
    if not text:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldInvalid(f"is not a valid email address: {exc}") from None
    return str(result.normalized)
