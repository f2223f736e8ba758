"""The request and response shapes, for the OpenAPI description only.

Requests are checked by the domain rules (`contacthub.domain`), which know the
contract's order of checks and report every problem at once; these models
describe the same shapes to readers of `/docs` and to client generators.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    index: int | None = Field(
        None, description="Position in `contacts`, when the problem is in one element"
    )
    field: str
    msg: str


class DuplicateEntry(BaseModel):
    index: int
    phone_no: str
    contact_id: str | None = Field(None, description="The stored contact that holds the number")
    duplicate_of_index: int | None = Field(None, description="The first element with the number")


class ErrorResponse(BaseModel):
    code: int = Field(description="Equal to the HTTP status")
    msg: str
    errors: list[Problem] | None = Field(None, description="On 400: every problem found")
    duplicates: list[DuplicateEntry] | None = Field(None, description="On 409 for contacts")


class TokenMixin(BaseModel):
    token: str | None = Field(
        None, description="Login token; may be sent as `Authorization: Bearer <token>` instead"
    )


class UserAddRequest(BaseModel):
    appid: int
    secret: str
    extension: int = Field(ge=1, le=99999)
    name: str = Field(min_length=1, max_length=100)
    phone_number: str | int
    password: str = Field(min_length=8, max_length=1024)
    start_time: int | None = Field(None, ge=0, le=24)
    end_time: int | None = Field(None, ge=0, le=24)
    sms_alert: bool | None = None


class Agent(BaseModel):
    agent_id: str = Field(examples=["101_1111112"])
    name: str
    extension: int


class UserAddResponse(BaseModel):
    code: Literal[200] = 200
    status: Literal["success"] = "success"
    msg: str = Field(examples=["Saved successfully"])
    agent: Agent


class LoginRequest(BaseModel):
    id: str = Field(examples=["101_1111112"])
    password: str


class LoginAgent(BaseModel):
    id: str
    inet_no: int = Field(description="The app id")
    name: str
    category: str


class LoginResponse(BaseModel):
    code: Literal[200] = 200
    msg: str = Field(examples=["User logged in successfully"])
    token: str
    agent: LoginAgent


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_no: str | int = Field(examples=["919200000000"])
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email_id: str | None = None
    company: str | None = Field(None, max_length=200)
    job_title: str | None = Field(None, max_length=200)


class ContactAddRequest(TokenMixin):
    contacts: list[ContactFields] = Field(min_length=1, max_length=100)
    on_duplicate: Literal["error", "skip", "update"] = Field(
        "error", description="Beyond TeleCMI: what to do with numbers already stored"
    )
    validate_only: bool = Field(
        False, description="Beyond TeleCMI: run every check and answer, writing nothing"
    )


class AddedContact(BaseModel):
    contact_id: str | None = Field(None, description="Absent in a validate_only answer")
    phone_no: str
    status: Literal["created", "updated", "skipped"]


class ContactAddResponse(BaseModel):
    code: Literal[200] = 200
    msg: str = Field(examples=["Contact added successfully"])
    contacts: list[AddedContact]
    skipped: list[int] = Field(description="Indexes of the elements skipped as duplicates")


class ContactGetRequest(TokenMixin):
    contact_id: str | None = Field(
        None, description="One contact by id; paging fields are then ignored"
    )
    limit: int | None = Field(10, ge=1, le=100)
    page_state: str | None = Field(None, description="The cursor from the previous page")
    search: str | None = Field(
        None,
        max_length=100,
        description="Beyond TeleCMI: prefix of a name, company or e-mail (address or domain), "
        "or any part of the phone digits; case-insensitive",
    )


class Contact(BaseModel):
    contact_id: str
    phone_no: str
    first_name: str
    last_name: str
    email_id: str | None
    company: str | None
    job_title: str | None
    created_at: int = Field(description="UTC milliseconds since the epoch")
    updated_at: int = Field(description="UTC milliseconds since the epoch")


class ContactGetResponse(BaseModel):
    code: Literal[200] = 200
    contacts: list[Contact]
    count: int = Field(description="Contacts in the organization, or matching the search")
    page_state: str | None = Field(description="Cursor for the next page; null on the last page")


class Health(BaseModel):
    status: str


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: str
    phone_no: str | int | None = None
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    email_id: str | None = None
    company: str | None = Field(None, max_length=200)
    job_title: str | None = Field(None, max_length=200)


class ContactUpdateRequest(TokenMixin):
    contacts: list[ContactPatch] = Field(min_length=1, max_length=100)


class ContactUpdateResponse(BaseModel):
    code: Literal[200] = 200
    msg: str = Field(examples=["Contacts updated successfully"])
    updated: int


class ContactDeleteRequest(TokenMixin):
    contact_ids: list[str] = Field(min_length=1, max_length=100)


class ContactDeleteResponse(BaseModel):
    code: Literal[200] = 200
    msg: str = Field(examples=["Contacts Deleted Successfully"])
    deleted: int
