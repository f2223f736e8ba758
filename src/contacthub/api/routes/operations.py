"""Health, readiness and metrics, for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from contacthub import metrics
from contacthub.api.openapi import INTERNAL_ERROR
from contacthub.api.schemas import Health, NotReadyResponse
from contacthub.edge.context import context_of
from contacthub.edge.responses import JSONResponse, error_response

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    operation_id="health",
    summary="Liveness: answers while the process runs",
    responses={200: {"model": Health, "description": "The process runs"}, **INTERNAL_ERROR},
)
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    operation_id="ready",
    summary="Readiness: answers 200 when the database answers",
    responses={
        200: {"model": Health, "description": "The database answers"},
        **INTERNAL_ERROR,
        503: {
            "model": NotReadyResponse,
            "description": "The database does not answer (no `Retry-After`)",
        },
    },
)
async def ready(request: Request) -> Response:
    if await run_in_threadpool(context_of(request).database.ping):
        return JSONResponse({"status": "ok"})
    return error_response(503, "Database unavailable")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics: requests, latency, contacts written",
    response_class=Response,
    responses={
        200: {
            "description": "The Prometheus text exposition format",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
        **INTERNAL_ERROR,
    },
)
async def metrics_text() -> Response:
    # With several workers this reads every worker's file: keep it off the event loop.
    body = await run_in_threadpool(metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
