"""The request and response shapes, for the OpenAPI description only, built from the
domain's own limits (`contacthub.domain`), which are their one source.

Requests are checked by the domain rules (`contacthub.domain`), which know the
contract's order of checks and report every problem at once; these models
describe the same shapes to readers of `/docs`, to client generators, and to
the schema fuzzer (`tests/e2e/test_schema_fuzz.py`), which checks every answer
of a running server against them. So the request models say what the server
accepts, as exactly as JSON Schema can, and the response models say exactly
what it answers: a field the server leaves out when it has no value is
optional here, not nullable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from contacthub.domain.contacts import MAX_BATCH, NAME_MAX_LENGTH, ORGANISATION_TEXT_MAX_LENGTH
from contacthub.domain.paging import DEFAULT_LIMIT, MAX_LIMIT
from contacthub.domain.phones import MAX_DIGITS
from contacthub.domain.search import MAX_SEARCH_LENGTH
from contacthub.domain.users import (
    LAST_HOUR,
    MAX_EXTENSION,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
)

# --- patterns -----------------------------------------------------------------
# Text fields are trimmed (Python's str.strip) and then must hold no control
# character (Unicode category Cc). These patterns say the same of the raw value:
# any whitespace around, then a core that starts and ends with a character that
# is neither whitespace nor a control character, and holds no control character.
_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_EDGE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_INNER = r"[^\x00-\x1f\x7f-\x9f]"


def _trimmed_text(max_length: int, *, blank_allowed: bool) -> str:
    core = f"{_EDGE}(?:{_INNER}{{0,{max_length - 2}}}{_EDGE})?"
    if blank_allowed:
        return f"^{_SPACE}*(?:{core}{_SPACE}*)?$"
    return f"^{_SPACE}*{core}{_SPACE}*$"


NAME_PATTERN = _trimmed_text(NAME_MAX_LENGTH, blank_allowed=False)
ORGANISATION_TEXT_PATTERN = _trimmed_text(ORGANISATION_TEXT_MAX_LENGTH, blank_allowed=True)
SEARCH_PATTERN = _trimmed_text(MAX_SEARCH_LENGTH, blank_allowed=True)
BLANK_PATTERN = f"^{_SPACE}*$"
# Separators anywhere, one leading `+` (or `00`, which is digits), at most MAX_DIGITS after it.
PHONE_PATTERN = rf"^[ ().-]*\+?(?:[ ().-]*[0-9]){{1,{MAX_DIGITS + 2}}}[ ().-]*$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
STORED_UUID_PATTERN = r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$"
USER_ID_PATTERN = r"^[1-9][0-9]{0,4}_[1-9][0-9]*$"
E164_DIGITS_PATTERN = r"^[1-9][0-9]*$"
# A JSON integer is read as its decimal digits; more than 17 are never a phone number.
MAX_PHONE_INTEGER = 10**MAX_DIGITS - 1

_NAME_RULE = (
    f"Trimmed; then 1 to {NAME_MAX_LENGTH} characters (code points), any script, "
    "no control characters"
)
_TEXT_RULE = (
    f"Optional. Trimmed; then at most {ORGANISATION_TEXT_MAX_LENGTH} characters, "
    "no control characters. "
    '`null`, `""` or only spaces mean none'
)
_PHONE_RULE = (
    "Spaces, `-`, `.`, `(`, `)` are ignored; a leading `+` or `00` marks an international "
    "number; otherwise it is read in the app's default region first, if it has one. Must be "
    "a valid number (libphonenumber). A JSON integer is read as its digits"
)

PhoneText = Annotated[str, Field(pattern=PHONE_PATTERN, examples=["+91 92000-00000"])]
PhoneInteger = Annotated[int, Field(ge=0, le=MAX_PHONE_INTEGER, examples=[919200000000])]
NameText = Annotated[str, Field(pattern=NAME_PATTERN, description=_NAME_RULE)]
OrganisationText = Annotated[str, Field(pattern=ORGANISATION_TEXT_PATTERN)]
EmailText = Annotated[str, Field(json_schema_extra={"format": "idn-email"})]
BlankText = Annotated[str, Field(pattern=BLANK_PATTERN)]
ContactId = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        description="A UUID in its 8-4-4-4-12 form, in any case",
        examples=["0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b"],
    ),
]
StoredContactId = Annotated[str, Field(pattern=STORED_UUID_PATTERN)]
NameValue = Annotated[str, Field(min_length=1, max_length=NAME_MAX_LENGTH)]
OrganisationValue = Annotated[str, Field(min_length=1, max_length=ORGANISATION_TEXT_MAX_LENGTH)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(description: str | None = None) -> Any:
    """A field the request or answer may leave out, but never sends as `null`."""
    return Field(None, description=description, json_schema_extra=_no_default)


# --- errors -------------------------------------------------------------------


class Problem(BaseModel):
    index: SkipJsonSchema[None] | Annotated[int, Field(ge=0)] = optional(
        "Position in `contacts` or `contact_ids`, when the problem is in one element"
    )
    field: str = Field(
        description="The field, `body` for the body itself, or the header `Idempotency-Key`"
    )
    msg: str


class StoredDuplicate(BaseModel):
    index: int = Field(ge=0)
    phone_no: str = Field(pattern=E164_DIGITS_PATTERN)
    contact_id: StoredContactId = Field(description="The stored contact that holds the number")


class BatchDuplicate(BaseModel):
    index: int = Field(ge=0)
    phone_no: str = Field(pattern=E164_DIGITS_PATTERN)
    duplicate_of_index: int = Field(ge=0, description="The first element with the number")


class InvalidRequestResponse(BaseModel):
    code: Literal[400]
    msg: Literal["Invalid request parameters"]
    errors: list[Problem] = Field(min_length=1, description="Every problem found")


class BodyTooLargeResponse(BaseModel):
    code: Literal[413]
    msg: Literal["Request body too large"]
    errors: list[Problem] = Field(min_length=1)


class NotAuthenticatedResponse(BaseModel):
    code: Literal[404]
    msg: Literal["Authenticated user record not found"]


class LoginFailedResponse(BaseModel):
    code: Literal[404]
    msg: Literal["Invalid user id or password"]


class DuplicateContactsResponse(BaseModel):
    code: Literal[409]
    msg: Literal["Duplicate contact detected within the organization"]
    duplicates: list[StoredDuplicate | BatchDuplicate] = Field(
        min_length=1,
        description="Each offending element: the stored contact that holds its number "
        "(`contact_id`), or the first element of the batch with it (`duplicate_of_index`)",
    )


class ExtensionTakenResponse(BaseModel):
    code: Literal[409]
    msg: Literal["Extension already exists in this app"]


class TooManyAttemptsResponse(BaseModel):
    code: Literal[429]
    msg: Literal["Too many failed attempts; try again later"]


class InternalErrorResponse(BaseModel):
    code: Literal[500]
    msg: Literal["Something went wrong!"]


class ServiceUnavailableResponse(BaseModel):
    code: Literal[503]
    msg: Literal["Service temporarily unavailable; try again"]


class NotReadyResponse(BaseModel):
    code: Literal[503]
    msg: Literal["Database unavailable"]


# --- v2/user/add and v2/user/login --------------------------------------------


class UserAddRequest(BaseModel):
    appid: int = Field(description="The app id that `contacthub app create` printed")
    secret: str = Field(min_length=1, description="The app secret")
    extension: int = Field(ge=1, le=MAX_EXTENSION, description="Unique within the app")
    name: NameText
    phone_number: PhoneText | PhoneInteger = Field(description=_PHONE_RULE)
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
    start_time: int | None = Field(None, ge=0, le=LAST_HOUR)
    end_time: int | None = Field(None, ge=0, le=LAST_HOUR)
    sms_alert: bool | None = None


class Agent(BaseModel):
    agent_id: str = Field(pattern=USER_ID_PATTERN, examples=["101_1111112"])
    name: NameValue
    extension: int = Field(ge=1, le=MAX_EXTENSION)


class UserAddResponse(BaseModel):
    code: Literal[200]
    status: Literal["success"]
    msg: Literal["Saved successfully"]
    agent: Agent


class LoginRequest(BaseModel):
    id: str = Field(
        min_length=1,
        description="The user id, `<extension>_<appid>`",
        examples=["101_1111112"],
    )
    password: str = Field(min_length=1)


class LoginAgent(BaseModel):
    id: str = Field(pattern=USER_ID_PATTERN)
    inet_no: int = Field(description="The app id")
    name: NameValue
    category: Literal["user"]


class LoginResponse(BaseModel):
    code: Literal[200]
    msg: Literal["User logged in successfully"]
    token: str = Field(min_length=1, description="Send it as `token`, or as a Bearer header")
    agent: LoginAgent


class TokenMixin(BaseModel):
    token: str | None = Field(
        None,
        description="The login token; or send it as `Authorization: Bearer <token>`. "
        'The body wins when both are present; `""` and `null` count as absent',
    )


class LogoutRequest(TokenMixin):
    pass


class LogoutResponse(BaseModel):
    code: Literal[200]
    msg: Literal["Logged out"]


# --- v3/contact/* ---------------------------------------------------------------


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_no: PhoneText | PhoneInteger = Field(description=_PHONE_RULE)
    first_name: NameText
    last_name: NameText
    email_id: EmailText | BlankText | None = Field(
        None, description='Optional; syntax checked, domain lower-cased. `null` or `""` mean none'
    )
    company: OrganisationText | None = Field(None, description=_TEXT_RULE)
    job_title: OrganisationText | None = Field(None, description=_TEXT_RULE)


class ContactAddRequest(TokenMixin):
    contacts: list[ContactFields] = Field(min_length=1, max_length=MAX_BATCH)
    on_duplicate: Literal["error", "skip", "update"] | None = Field(
        "error",
        description="Beyond TeleCMI: what to do with numbers already stored; `null` means "
        '`"error"`. A number repeated inside the batch is a `409` under every policy',
    )
    validate_only: bool | None = Field(
        False, description="Beyond TeleCMI: run every check and answer, writing nothing"
    )


class AddedContact(BaseModel):
    contact_id: SkipJsonSchema[None] | StoredContactId = optional(
        "Absent in a `validate_only` answer"
    )
    phone_no: str = Field(pattern=E164_DIGITS_PATTERN)
    status: Literal["created", "updated", "skipped"]


class ContactAddResponse(BaseModel):
    code: Literal[200]
    msg: Literal["Contact added successfully", "Contacts are valid"] = Field(
        description='"Contacts are valid" answers a `validate_only` request'
    )
    contacts: list[AddedContact] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="One entry per input element, in input order",
    )
    skipped: list[Annotated[int, Field(ge=0)]] = Field(
        description="Indexes of the elements skipped as duplicates"
    )


class ContactGetRequest(TokenMixin):
    contact_id: str | None = Field(
        None,
        pattern=r"^(?:[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})?$",
        description='One contact by id; `limit`, `page_state` and `search` are then ignored. `""` '
        "or `null` mean none",
    )
    limit: int | None = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"`null` means {DEFAULT_LIMIT}"
    )
    page_state: str | None = Field(
        None,
        description='The cursor from the previous page, with the same `search`. `""` or `null` '
        "start from the beginning",
    )
    search: str | None = Field(
        None,
        pattern=SEARCH_PATTERN,
        description=f"Beyond TeleCMI: trimmed, then at most {MAX_SEARCH_LENGTH} characters. "
        "Matches the start of "
        "a first or last name, company, e-mail address or e-mail domain (case-insensitive), or "
        "any part of the phone digits",
    )


class Contact(BaseModel):
    contact_id: StoredContactId
    phone_no: str = Field(pattern=E164_DIGITS_PATTERN, description="E.164 digits without `+`")
    first_name: NameValue
    last_name: NameValue
    email_id: str | None
    company: OrganisationValue | None
    job_title: OrganisationValue | None
    created_at: int = Field(ge=0, description="UTC milliseconds since the epoch")
    updated_at: int = Field(ge=0, description="UTC milliseconds since the epoch")


class ContactGetResponse(BaseModel):
    code: Literal[200]
    contacts: list[Contact] = Field(max_length=MAX_LIMIT)
    count: int = Field(ge=0, description="Contacts in the organization, or matching the search")
    page_state: str | None = Field(
        description="Cursor for the next page; null on the last page",
    )


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: ContactId
    # Left out, a field keeps its value; these three cannot be cleared (`null` or `""`).
    phone_no: SkipJsonSchema[None] | PhoneText | PhoneInteger = optional(_PHONE_RULE)
    first_name: SkipJsonSchema[None] | NameText = optional(_NAME_RULE)
    last_name: SkipJsonSchema[None] | NameText = optional(_NAME_RULE)
    email_id: EmailText | BlankText | None = Field(None, description='`null` or `""` clear it')
    company: OrganisationText | None = Field(None, description='`null` or `""` clear it')
    job_title: OrganisationText | None = Field(None, description='`null` or `""` clear it')


class ContactUpdateRequest(TokenMixin):
    contacts: list[ContactPatch] = Field(
        min_length=1, max_length=MAX_BATCH, description="Each `contact_id` at most once"
    )


class ContactUpdateResponse(BaseModel):
    code: Literal[200]
    msg: Literal["Contacts updated successfully"]
    updated: int = Field(ge=1, le=MAX_BATCH, description="The number of contacts in the batch")


class ContactDeleteRequest(TokenMixin):
    contact_ids: list[ContactId] = Field(min_length=1, max_length=MAX_BATCH)


class ContactDeleteResponse(BaseModel):
    code: Literal[200]
    msg: Literal["Contacts Deleted Successfully"]
    deleted: int = Field(ge=0, le=MAX_BATCH, description="Contacts actually deleted")


# --- operations -----------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]
