"""The dashboard's pages: log in and out, the contact list, add, edit and delete.

Every page reads and writes through `services` and `AppContext.reading` /
`writing`, exactly as the API routes do, so the rules and their messages are
the API's own, and what they write is counted in /metrics as the API's writes
are. Pages are plain HTML forms; dashboard.js only adds search as you type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contacthub.domain.contacts import (
    CONTACT_FIELDS,
    NewContacts,
    changes_to_one,
    parse_contact,
    parse_deletion,
)
from contacthub.domain.credentials import user_credentials
from contacthub.domain.paging import page_request
from contacthub.domain.users import Principal
from contacthub.edge.context import context_of
from contacthub.edge.proxies import client_address
from contacthub.errors import (
    DuplicateContacts,
    InvalidRequest,
    NotAuthenticated,
    Problem,
    ServiceUnavailable,
    TooManyAttempts,
)
from contacthub.services import contacts as contacts_service
from contacthub.services import users as users_service
from contacthub.web import forms, session
from contacthub.web.forms import FormShape

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("contacthub.web")
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

PAGE_SIZE = 25
FIELD_LABELS = {
    "phone_no": "Phone number",
    "first_name": "First name",
    "last_name": "Last name",
    "email_id": "E-mail",
    "company": "Company",
    "job_title": "Job title",
}
NOTICES = {
    "added": "Contact added.",
    "updated": "Contact saved.",
    "deleted": "Contact deleted.",
}
# No page embeds or is embedded by another site's; scripts and styles come from here only.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    principal: Principal
    csrf_token: str


async def _session(request: Request) -> Session | None:
    token = session.read_cookie(request, session.SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = await context_of(request).authenticate(token)
    except NotAuthenticated:
        return None
    return Session(token, principal, session.csrf_token_for(token))


def _render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    return templates.TemplateResponse(
        request, template, {"labels": FIELD_LABELS, **values}, status_code=status, headers=_HEADERS
    )


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def _refused(request: Request) -> Response:
    return _render(
        request,
        "message.html",
        status=403,
        title="Form expired",
        message="This form could not be checked (it may be from an old page or another site). "
        "Nothing was changed. Go back, reload the page and try again.",
    )


class Answered(Exception):
    """Raised with the page to send instead of the one asked for; `install` sends it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _signed_in(request: Request) -> Session:
    """The session of a page that needs one; without one, the visitor is sent to log in."""
    current = await _session(request)
    if current is None:
        raise Answered(_redirect("/login"))
    return current


# What each form holds (its CSRF token included), with a field or two to spare;
# its bytes are Settings.max_form_bytes, or max_import_bytes for the upload.
LOGIN_FORM = 4
CONTACT_FORM = 8
BUTTON_FORM = 2  # delete, log out: the token alone


async def _form(request: Request, shape: FormShape) -> FormData:
    """The form of any dashboard POST: refused from another site, bounded before it is parsed."""
    try:
        return await forms.read_form(request, shape)
    except forms.CrossSite:
        raise Answered(_refused(request)) from None
    except forms.TooLarge as error:
        raise Answered(_too_large(request, error.limit)) from None
    except forms.Unreadable as error:
        raise Answered(_unreadable(request, error.reason)) from None


def _form_shape(request: Request, max_fields: int) -> FormShape:
    return FormShape(context_of(request).settings.max_form_bytes, max_fields)


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MiB" if limit % (1 << 20) == 0 else f"{limit / 1024:g} KiB"


def _too_large(request: Request, limit: int) -> Response:
    return _render(
        request,
        "message.html",
        status=413,
        title="Too large",
        message=f"This form is larger than the limit of {_size(limit)}. Nothing was stored.",
    )


def _unreadable(request: Request, reason: str) -> Response:
    return _render(
        request,
        "message.html",
        status=400,
        title="Form not read",
        message=f"This form could not be read: {reason} Nothing was changed.",
    )


async def _posted(request: Request, max_fields: int) -> tuple[Session, FormData]:
    """The session and form of a POST whose CSRF token is right; otherwise the POST is refused."""
    current = await _signed_in(request)
    form = await _form(request, _form_shape(request, max_fields))
    if not session.csrf_matches(current.csrf_token, form.get(session.CSRF_FIELD)):
        raise Answered(_refused(request))
    return current, form


def _field_errors(problems: list[Problem]) -> tuple[dict[str, str], list[str]]:
    """Problems by form field, and those about no field of the form."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        if problem.field in FIELD_LABELS:
            joined = f"{by_field[problem.field]}; " if problem.field in by_field else ""
            by_field[problem.field] = joined + problem.msg
        else:
            general.append(f"{problem.field}: {problem.msg}")
    return by_field, general


def _form_values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in CONTACT_FIELDS}


# --- logging in and out ---------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request) -> Response:
    if await _session(request) is not None:
        return _redirect("/")
    # Kept when present, so that two login tabs open at once both work.
    csrf = session.read_cookie(request, session.LOGIN_CSRF_COOKIE) or session.new_login_csrf()
    response = _render(request, "login.html", csrf_token=csrf, values={}, errors={})
    session.set_cookie(request, response, session.LOGIN_CSRF_COOKIE, csrf, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    context = context_of(request)
    form = await _form(request, _form_shape(request, LOGIN_FORM))
    csrf = session.read_cookie(request, session.LOGIN_CSRF_COOKIE)
    if not csrf or not session.csrf_matches(csrf, form.get(session.CSRF_FIELD)):
        return _refused(request)
    values = {"user_id": str(form.get("user_id") or "")}

    def again(status: int, message: str, errors: dict[str, str] | None = None) -> Response:
        return _render(
            request,
            "login.html",
            status=status,
            csrf_token=csrf,
            values=values,
            errors=errors or {},
            message=message,
        )

    # The same use case, throttle and answers as `v2/user/login`.
    try:
        credentials = user_credentials(
            {"id": form.get("user_id"), "password": form.get("password")}
        )
        logged_in = await users_service.log_in(
            context,
            context.hashing,
            credentials=credentials,
            client_address=client_address(request.scope),
            policy=context.login_policy,
        )
    except InvalidRequest as error:
        errors = {("user_id" if p.field == "id" else p.field): p.msg for p in error.problems}
        return again(400, "Fill in your user id and password.", errors)
    except TooManyAttempts as error:
        return again(429, f"{error.msg} (in {error.retry_after_seconds} s).")
    except ServiceUnavailable as error:
        return again(503, f"{error.msg}.")
    except NotAuthenticated:
        return again(401, users_service.WRONG_LOGIN + ".")
    response = _redirect("/")
    session.set_cookie(
        request,
        response,
        session.SESSION_COOKIE,
        logged_in.token,
        max_age=context.settings.token_ttl_seconds,
    )
    session.clear_cookie(request, response, session.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    current, _form = await _posted(request, BUTTON_FORM)
    await context_of(request).log_out(current.token)
    response = _redirect("/login")
    session.clear_cookie(request, response, session.SESSION_COOKIE)
    return response


# --- the contact list -------------------------------------------------------------------


@router.get("/")
async def contact_list(request: Request) -> Response:
    current = await _signed_in(request)
    context = context_of(request)
    query = request.query_params
    search = query.get("q", "")
    codec = await context.page_state_codec()
    body = {"limit": PAGE_SIZE, "search": search, "page_state": query.get("page_state")}
    page = None
    errors: dict[str, str] = {}
    try:
        wanted = page_request(body, codec=codec, app_id=current.principal.app_id)
    except InvalidRequest as error:
        errors = {p.field: p.msg for p in error.problems}
    else:
        page = await contacts_service.get_page(context, current.principal, wanted, codec)
    template = "_results.html" if query.get("partial") == "1" else "list.html"
    return _render(
        request,
        template,
        status=400 if errors else 200,
        session=current,
        search=search,
        page=page,
        errors=errors,
        first_page=not query.get("page_state"),
        notice=NOTICES.get(query.get("notice", "")),
    )


# --- adding, editing and deleting one contact -------------------------------------------


def _form_page(
    request: Request,
    current: Session,
    *,
    values: dict[str, Any],
    contact_id: str | None = None,
    error: Exception | None = None,
) -> Response:
    errors: dict[str, str] = {}
    general: list[str] = []
    duplicates: list[dict[str, Any]] = []
    status = 200
    if isinstance(error, InvalidRequest):
        errors, general = _field_errors(error.problems)
        status = 400
    if isinstance(error, DuplicateContacts):
        general, duplicates, status = [error.msg], error.duplicates, 409
    return _render(
        request,
        "contact_form.html",
        status=status,
        session=current,
        contact_id=contact_id,
        values=values,
        errors=errors,
        general=general,
        duplicates=duplicates,
    )


@router.get("/contacts/new")
async def new_contact_page(request: Request) -> Response:
    current = await _signed_in(request)
    return _form_page(request, current, values={})


@router.post("/contacts/new")
async def add_contact(request: Request) -> Response:
    current, form = await _posted(request, CONTACT_FORM)
    values = _form_values(form)
    try:
        draft = parse_contact(values, default_region=current.principal.default_region)
        await contacts_service.add_contacts(
            context_of(request), current.principal, NewContacts([draft])
        )
    except (InvalidRequest, DuplicateContacts) as error:
        return _form_page(request, current, values=values, error=error)
    return _redirect("/?notice=added")


async def _stored_contact(request: Request, current: Session, contact_id: str) -> dict[str, Any]:
    """The contact of this organization with that id, or {} (also for a malformed id)."""
    stored = await contacts_service.get_contact(context_of(request), current.principal, contact_id)
    return stored or {}


def _not_found(request: Request) -> Response:
    return _render(
        request,
        "message.html",
        status=404,
        title="No such contact",
        message="This contact does not exist in your organization (it may have been deleted).",
    )


@router.get("/contacts/{contact_id}/edit")
async def edit_contact_page(request: Request, contact_id: str) -> Response:
    current = await _signed_in(request)
    stored = await _stored_contact(request, current, contact_id)
    if not stored:
        return _not_found(request)
    values = {name: stored[name] or "" for name in CONTACT_FIELDS}
    return _form_page(request, current, values=values, contact_id=contact_id)


@router.post("/contacts/{contact_id}/edit")
async def edit_contact(request: Request, contact_id: str) -> Response:
    current, form = await _posted(request, CONTACT_FORM)
    values = _form_values(form)
    changes = changes_to_one(contact_id, values, default_region=current.principal.default_region)
    try:
        await contacts_service.update_contacts(context_of(request), current.principal, changes)
    except (InvalidRequest, DuplicateContacts) as error:
        return _form_page(request, current, values=values, contact_id=contact_id, error=error)
    return _redirect("/?notice=updated")


@router.get("/contacts/{contact_id}/delete")
async def delete_contact_page(request: Request, contact_id: str) -> Response:
    current = await _signed_in(request)
    stored = await _stored_contact(request, current, contact_id)
    if not stored:
        return _not_found(request)
    return _render(request, "confirm_delete.html", session=current, contact=stored)


@router.post("/contacts/{contact_id}/delete")
async def delete_contact(request: Request, contact_id: str) -> Response:
    current, _ = await _posted(request, BUTTON_FORM)
    try:
        contact_ids = parse_deletion({"contact_ids": [contact_id]})
    except InvalidRequest:
        return _not_found(request)
    if not await contacts_service.delete_contacts(
        context_of(request), current.principal, contact_ids
    ):
        return _not_found(request)
    return _redirect("/?notice=deleted")
