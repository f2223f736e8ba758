"""The errors contacthub raises, knowing nothing of HTTP.

    ContactHubError
    ├── InvalidRequest          a request that can never succeed as sent
    │   └── BodyTooLarge        ... because of its size alone
    ├── NotAuthenticated        unknown, wrong or expired credentials
    ├── Conflict                the request clashes with stored data
    │   ├── DuplicateContacts   phone numbers already stored or repeated in the batch
    │   └── ExtensionTaken      a user with that extension exists in the app
    ├── TooManyAttempts         too many failed logins; try again later
    └── ServiceUnavailable      the database cannot be reached or stays busy

`contacthub.api.envelope` is the one place that turns these into HTTP answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: which field, why, and in which batch element."""

    field: str
    msg: str
    index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.index is None:
            return {"field": self.field, "msg": self.msg}
        return {"index": self.index, "field": self.field, "msg": self.msg}


class ContactHubError(Exception):
    msg = "Something went wrong!"

    def __init__(self, msg: str | None = None) -> None:
        if msg is not None:
            self.msg = msg
        super().__init__(self.msg)


class InvalidRequest(ContactHubError):
    msg = "Invalid request parameters"

    def __init__(self, problems: list[Problem], msg: str | None = None) -> None:
        super().__init__(msg)
        self.problems = problems

    @classmethod
    def raise_if(cls, problems: list[Problem]) -> None:
        """Raise with every problem found, if there is one."""
        if problems:
            raise cls(problems)


class BodyTooLarge(InvalidRequest):
    def __init__(self, limit: int) -> None:
        super().__init__(
            [Problem("body", f"must be at most {limit} bytes")], msg="Request body too large"
        )


class NotAuthenticated(ContactHubError):
    msg = "Authenticated user record not found"


class Conflict(ContactHubError):
    pass


class DuplicateContacts(Conflict):
    msg = "Duplicate contact detected within the organization"

    def __init__(self, duplicates: list[dict[str, Any]]) -> None:
        super().__init__()
        self.duplicates = duplicates


class ExtensionTaken(Conflict):
    msg = "Extension already exists in this app"


class TooManyAttempts(ContactHubError):
    msg = "Too many failed attempts; try again later"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(ContactHubError):
    msg = "Service temporarily unavailable; try again"
