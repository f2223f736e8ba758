"""`v3/contact/add`, `get`, `update` and `delete`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from contacthub.api import idempotency
from contacthub.api.body import read_json_object
from contacthub.api.openapi import api_responses, request_body
from contacthub.api.schemas import (
    ContactAddRequest,
    ContactAddResponse,
    ContactDeleteRequest,
    ContactDeleteResponse,
    ContactGetRequest,
    ContactGetResponse,
    ContactUpdateRequest,
    ContactUpdateResponse,
    DuplicateContactsResponse,
)
from contacthub.domain.contacts import parse_contact_changes, parse_deletion, parse_new_contacts
from contacthub.domain.credentials import user_token
from contacthub.domain.paging import page_request
from contacthub.domain.users import Principal
from contacthub.edge.context import AppContext, context_of
from contacthub.edge.responses import JSONResponse
from contacthub.services import contacts as contacts_service

router = APIRouter(tags=["contacts"])

ADD_PATH = "/v3/contact/add"


async def _authenticated(request: Request) -> tuple[AppContext, dict[str, Any], Principal]:
    """Steps 1 to 3 of the order of checks: the body, the token's presence, the token's owner."""
    context = context_of(request)
    body = await read_json_object(request, context.settings.max_body_bytes)
    token = user_token(body, request.headers.get("authorization"))
    return context, body, await context.authenticate(token)


def _add_answer(added: contacts_service.AddedContacts) -> dict[str, Any]:
    return {
        "code": 200,
        "msg": "Contacts are valid" if added.validate_only else "Contact added successfully",
        "contacts": added.entries,
        "skipped": added.skipped,
    }


@router.post(
    ADD_PATH,
    operation_id="addContacts",
    summary="Add 1 to 100 contacts to the organization, all or nothing",
    responses=api_responses(
        ContactAddResponse,
        success_description="Added (or, with `on_duplicate`, skipped or updated): one entry per "
        "input element, in input order",
        conflict=DuplicateContactsResponse,
        conflict_description='A number already stored (under `on_duplicate` `"error"`), or '
        "repeated in the batch (under every policy); nothing was written",
        replayable=True,
    ),
    openapi_extra=request_body(ContactAddRequest, bearer=True, idempotency_key=True),
)
async def add_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    # A dry run writes nothing, so there is nothing to keep for it.
    if key is None or body.get("validate_only") is True:
        command = parse_new_contacts(body, default_region=principal.default_region)
        added = await contacts_service.add_contacts(context, principal, command)
        return JSONResponse(_add_answer(added))

    added_now: list[contacts_service.AddedContacts] = []

    def add_once(connection: Connection) -> dict[str, Any]:
        # Checked inside: a key used before answers as it did then, whatever this body holds.
        command = parse_new_contacts(body, default_region=principal.default_region)
        added = contacts_service.add(connection, principal, contacts_service.ready(command))
        added_now.append(added)
        return _add_answer(added)

    answer = await context.writing(
        idempotency.run_once,
        principal=principal,
        path=ADD_PATH,
        key=key,
        body=body,
        apply=add_once,
    )
    if added_now and answer.status == 200 and not answer.replayed:
        contacts_service.count_added(added_now[0])
    return answer.response()


@router.post(
    "/v3/contact/get",
    operation_id="getContacts",
    summary="Read one contact by id, or a page of contacts in creation order, optionally searched",
    responses=api_responses(
        ContactGetResponse,
        success_description="One contact (or none) by id, or a page in creation order",
    ),
    openapi_extra=request_body(ContactGetRequest, bearer=True),
)
async def get_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    codec = await context.page_state_codec()
    wanted = page_request(body, codec=codec, app_id=principal.app_id)
    page = await contacts_service.get_page(context, principal, wanted, codec)
    return JSONResponse(
        {"code": 200, "contacts": page.contacts, "count": page.count, "page_state": page.page_state}
    )


@router.post(
    "/v3/contact/update",
    operation_id="updateContacts",
    summary="Change 1 to 100 contacts, all or nothing",
    responses=api_responses(
        ContactUpdateResponse,
        success_description="Every contact of the batch was changed",
        conflict=DuplicateContactsResponse,
        conflict_description="A new number that another contact holds, or that an earlier "
        "element also takes; nothing was written",
    ),
    openapi_extra=request_body(ContactUpdateRequest, bearer=True),
)
async def update_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    changes = parse_contact_changes(body, default_region=principal.default_region)
    updated = await contacts_service.update_contacts(context, principal, changes)
    return JSONResponse({"code": 200, "msg": "Contacts updated successfully", "updated": updated})


@router.post(
    "/v3/contact/delete",
    operation_id="deleteContacts",
    summary="Delete 1 to 100 contacts by id; ids that match nothing are ignored",
    responses=api_responses(
        ContactDeleteResponse,
        success_description="Deleted; ids that match nothing in the organization are ignored",
    ),
    openapi_extra=request_body(ContactDeleteRequest, bearer=True),
)
async def delete_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    deleted = await contacts_service.delete_contacts(context, principal, parse_deletion(body))
    return JSONResponse({"code": 200, "msg": "Contacts Deleted Successfully", "deleted": deleted})
