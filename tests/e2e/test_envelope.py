"""The conventions every endpoint shares: the envelope, methods, paths, bodies, request ids."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Org, Server

API_PATHS = ["/v2/user/add", "/v2/user/login", "/v3/contact/add", "/v3/contact/get"]


def assert_envelope(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status
    assert isinstance(body["msg"], str)
    assert body["msg"]
    assert response.headers["x-request-id"]
    return body


def test_unknown_path_is_404_not_found(server: Server) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = httpx.request(method, f"{server.url}/v3/contact/nope")
        assert assert_envelope(response, 404)["msg"] == "Not found"


def test_trailing_slash_is_unknown_not_a_redirect(server: Server) -> None:
    response = httpx.post(f"{server.url}/v3/contact/add/", json={})
    assert_envelope(response, 404)


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_on_api_path_is_405(server: Server, path: str, method: str) -> None:
    assert_envelope(httpx.request(method, f"{server.url}{path}"), 405)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs"])
def test_wrong_method_on_operations_path_is_405(server: Server, path: str) -> None:
    assert_envelope(httpx.post(f"{server.url}{path}", json={}), 405)


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty"),
        (b"{", "truncated"),
        (b"{'token': 'x'}", "single quotes"),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'"\\ud800"', "lone surrogate"),
        (b"[" * 5000 + b"]" * 5000, "nested too deep"),
    ],
)
def test_malformed_json_is_400_naming_the_body(
    server: Server, path: str, raw: bytes, why: str
) -> None:
    response = httpx.post(f"{server.url}{path}", content=raw)
    body = assert_envelope(response, 400)
    assert body["errors"][0]["field"] == "body", why


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("raw", [b"[]", b"[{}]", b'"text"', b"42", b"null", b"true"])
def test_non_object_body_is_400(server: Server, path: str, raw: bytes) -> None:
    body = assert_envelope(httpx.post(f"{server.url}{path}", content=raw), 400)
    assert body["errors"] == [{"field": "body", "msg": "must be a JSON object"}]


@pytest.mark.parametrize("path", API_PATHS)
def test_oversized_body_is_413(server: Server, path: str) -> None:
    raw = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert_envelope(httpx.post(f"{server.url}{path}", content=raw), 413)


def test_oversized_body_without_content_length_is_413(server: Server) -> None:
    def chunks():
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = httpx.post(f"{server.url}/v3/contact/add", content=chunks())
    assert_envelope(response, 413)


def test_body_just_under_the_limit_is_read(org: Org) -> None:
    padding = "x" * (1024 * 1024 - 200)
    response = org.post("/v3/contact/get", {"token": org.token, "pad": padding})
    assert response.status_code == 200, response.text


def test_every_response_carries_a_request_id(org: Org) -> None:
    ids = {org.get().headers["x-request-id"], org.get().headers["x-request-id"]}
    assert len(ids) == 2


def test_a_safe_caller_request_id_is_echoed_and_an_unsafe_one_replaced(org: Org) -> None:
    echoed = org.client.post(
        "/v3/contact/get", json={"token": org.token}, headers={"X-Request-ID": "abc-123"}
    )
    assert echoed.headers["x-request-id"] == "abc-123"
    replaced = org.client.post(
        "/v3/contact/get", json={"token": org.token}, headers={"X-Request-ID": "a b\tc"}
    )
    assert replaced.headers["x-request-id"] != "a b\tc"


def test_health_and_readiness(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


def test_openapi_describes_every_endpoint_with_its_shapes(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in API_PATHS:
        operation = spec["paths"][path]["post"]
        schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schema_ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
        assert {"200", "400", "404", "500"} <= set(operation["responses"])
    assert "422" not in str(spec["paths"])
    assert "ContactFields" in spec["components"]["schemas"]
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
