"""`v2/user/add` and `v2/user/login`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contacthub.api.body import read_json_object
from contacthub.api.openapi import api_responses, request_body
from contacthub.api.schemas import (
    ExtensionTakenResponse,
    LoginFailedResponse,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    LogoutResponse,
    UserAddRequest,
    UserAddResponse,
)
from contacthub.domain.credentials import app_credentials, user_credentials, user_token
from contacthub.edge.context import context_of
from contacthub.edge.proxies import client_address
from contacthub.edge.responses import JSONResponse
from contacthub.services import users as users_service

router = APIRouter(tags=["users"])


@router.post(
    "/v2/user/add",
    operation_id="addUser",
    summary="Add a user to an app (admin: authenticated by the app id and secret)",
    responses=api_responses(
        UserAddResponse,
        success_description="The user was added; it logs in as `<extension>_<appid>`",
        not_found_description="Unknown `appid`, or wrong `secret`",
        conflict=ExtensionTakenResponse,
        conflict_description="The extension is taken in this app",
        throttled=True,
    ),
    openapi_extra=request_body(UserAddRequest),
)
async def add_user(request: Request) -> Response:
    context = context_of(request)
    body = await read_json_object(request, context.settings.max_body_bytes)
    added = await users_service.add_user(
        context,
        context.hashing,
        credentials=app_credentials(body),
        body=body,
        client_address=client_address(request.scope),
        policy=context.login_policy,
    )
    return JSONResponse(
        {
            "code": 200,
            "status": "success",
            "msg": "Saved successfully",
            "agent": {"agent_id": added.agent_id, "name": added.name, "extension": added.extension},
        }
    )


@router.post(
    "/v2/user/login",
    operation_id="login",
    summary="Log in with a user id and password for a token",
    responses=api_responses(
        LoginResponse,
        success_description="Logged in: a new token, valid for 30 days by default",
        not_found=LoginFailedResponse,
        not_found_description="Unknown user id or wrong password (the same answer for both)",
        throttled=True,
    ),
    openapi_extra=request_body(LoginRequest),
)
async def login(request: Request) -> Response:
    context = context_of(request)
    body = await read_json_object(request, context.settings.max_body_bytes)
    logged_in = await users_service.log_in(
        context,
        context.hashing,
        credentials=user_credentials(body),
        client_address=client_address(request.scope),
        policy=context.login_policy,
    )
    return JSONResponse(
        {
            "code": 200,
            "msg": "User logged in successfully",
            "token": logged_in.token,
            "agent": {
                "id": logged_in.agent_id,
                "inet_no": logged_in.appid,
                "name": logged_in.name,
                "category": "user",
            },
        }
    )


@router.post(
    "/v2/user/logout",
    operation_id="logout",
    summary="Revoke a login token (beyond TeleCMI)",
    responses=api_responses(
        LogoutResponse,
        success_description="The token no longer works: at once on this server process, "
        "within CONTACTHUB_TOKEN_RECHECK_SECONDS (5 s) on every other",
    ),
    openapi_extra=request_body(LogoutRequest),
)
async def logout(request: Request) -> Response:
    context = context_of(request)
    body = await read_json_object(request, context.settings.max_body_bytes)
    token = user_token(body, request.headers.get("authorization"))
    await context.authenticate(token)
    await context.log_out(token)
    return JSONResponse({"code": 200, "msg": "Logged out"})
