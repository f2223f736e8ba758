"""What the client's methods return: small frozen dataclasses built from the server's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

__all__ = ["AddResult", "AddedContact", "AddedUser", "Contact", "OnDuplicate"]

OnDuplicate = Literal["error", "skip", "update"]


@dataclass(frozen=True)
class Contact:
    """A stored contact, as `POST /v3/contact/get` returns it. Timestamps are epoch milliseconds."""

    contact_id: str
    phone_no: str
    first_name: str
    last_name: str
    email_id: str | None
    company: str | None
    job_title: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contact:
        # Keys the server may add later are ignored, as the contract allows more keys.
        return cls(
            contact_id=data["contact_id"],
            phone_no=data["phone_no"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email_id=data.get("email_id"),
            company=data.get("company"),
            job_title=data.get("job_title"),
            created_at=data["created_at"],
            updated_at=data["updated_at"],
        )


@dataclass(frozen=True)
class AddedContact:
    """One input element of `add_contacts`: its normalised number and what became of it.

    `status` is `"created"`, `"updated"` or `"skipped"`. `contact_id` is `None`
    only for a `validate_only` call, which writes nothing.
    """

    phone_no: str
    status: str
    contact_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AddedContact:
        return cls(data["phone_no"], data["status"], data.get("contact_id"))


@dataclass(frozen=True)
class AddResult:
    """The outcome of `add_contacts`, over all its batches.

    `contacts` has one entry per input element, in input order. `skipped`
    holds the indexes (over the whole input) of the elements skipped as
    numbers already stored.
    """

    contacts: tuple[AddedContact, ...] = ()
    skipped: tuple[int, ...] = ()

    @property
    def created(self) -> int:
        return sum(1 for entry in self.contacts if entry.status == "created")

    @property
    def updated(self) -> int:
        return sum(1 for entry in self.contacts if entry.status == "updated")

    def extended(self, body: Mapping[str, Any], offset: int) -> AddResult:
        """This result followed by one batch's answer; the batch began at input index `offset`."""
        return AddResult(
            self.contacts + tuple(AddedContact.from_json(entry) for entry in body["contacts"]),
            self.skipped + tuple(offset + index for index in body.get("skipped", [])),
        )


@dataclass(frozen=True)
class AddedUser:
    """The user `add_user` created. `agent_id` (`<extension>_<appid>`) is the id to log in with."""

    agent_id: str
    name: str
    extension: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AddedUser:
        return cls(data["agent_id"], data["name"], data["extension"])


class NewUser(TypedDict):
    """The fields of a user to add; the optional ones left out get the server's defaults."""

    extension: int
    name: str
    phone_number: str
    password: str
    start_time: NotRequired[int]
    end_time: NotRequired[int]
    sms_alert: NotRequired[bool]
