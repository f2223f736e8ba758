"""`v3/contact/add` and `v3/contact/get`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contacthub.api.body import read_json_object
from contacthub.api.context import AppContext, context_of
from contacthub.api.openapi import request_body, responses
from contacthub.api.responses import JSONResponse
from contacthub.api.schemas import (
    ContactAddRequest,
    ContactAddResponse,
    ContactGetRequest,
    ContactGetResponse,
)
from contacthub.domain.credentials import user_token
from contacthub.services import contacts as contacts_service
from contacthub.storage.users import Principal

router = APIRouter(tags=["contacts"])


async def _authenticated(request: Request) -> tuple[AppContext, dict[str, Any], Principal]:
    """Steps 1 to 3 of the order of checks: the body, the token's presence, the token's owner."""
    context = context_of(request)
    body = await read_json_object(request, context.settings.max_body_bytes)
    token = user_token(body, request.headers.get("authorization"))
    return context, body, await context.authenticate(token)


@router.post(
    "/v3/contact/add",
    operation_id="addContacts",
    summary="Add 1 to 100 contacts to the organization, all or nothing",
    responses=responses(ContactAddResponse, 400, 404, 409, 413),
    openapi_extra=request_body(ContactAddRequest),
)
async def add_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    drafts = contacts_service.check_new_contacts(principal, body)
    created = await context.writing(contacts_service.add, principal, drafts)
    return JSONResponse(
        {
            "code": 200,
            "msg": "Contact added successfully",
            "contacts": [
                {
                    "contact_id": contact.contact_id,
                    "phone_no": contact.phone_no,
                    "status": "created",
                }
                for contact in created
            ],
        }
    )


@router.post(
    "/v3/contact/get",
    operation_id="getContacts",
    summary="Read one contact by id, or a page of contacts in creation order",
    responses=responses(ContactGetResponse, 400, 404, 413),
    openapi_extra=request_body(ContactGetRequest),
)
async def get_contacts(request: Request) -> Response:
    context, body, principal = await _authenticated(request)
    page_request = contacts_service.check_page_request(body)
    page = await context.reading(contacts_service.get, principal, page_request)
    return JSONResponse(
        {"code": 200, "contacts": page.contacts, "count": page.count, "page_state": page.page_state}
    )
