"""No secret, token or password ever reaches the server's log."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from tests.conftest import SHARED_SERVER_ENV, Server, contact, new_org
from tests.edge.test_access_log import LINE


def test_a_full_run_logs_no_secret_token_or_password(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = Server(database_url, env=SHARED_SERVER_ENV)
    server.start(log)
    try:
        org = new_org(server)
        secrets = [org.secret, org.password, org.token]
        bearer = {"Authorization": f"Bearer {org.token}"}
        org.add([contact("919330000001")])
        org.client.post("/v3/contact/get", json={"search": "john"}, headers=bearer)
        org.client.post(
            "/v3/contact/add",
            json={"token": org.token, "contacts": [contact("919330000002")]},
            headers={"Idempotency-Key": "log-test"},
        )
        wrong_password = "wrong password 7f3a"
        org.post("/v2/user/login", {"id": org.user_id, "password": wrong_password})
        org.post("/v2/user/add", {"appid": org.appid, "secret": "wrong secret 9b2c"})
        relogin = org.post("/v2/user/login", {"id": org.user_id, "password": org.password})
        secrets += [wrong_password, "wrong secret 9b2c", relogin.json()["token"]]
        httpx.post(f"{server.url}/v3/contact/get", content=b'{"token": "' + org.token.encode())
    finally:
        server.stop()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "POST /v3/contact/add" in text  # the log was written
    for secret in secrets:
        assert secret not in text


def test_every_request_gets_one_access_line_with_its_status_and_request_id(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = Server(database_url, env=SHARED_SERVER_ENV)
    server.start(log)
    sent = {"line-ok": 200, "line-missing": 404, "line-bad-body": 400}
    try:
        org = new_org(server)
        for request_id, status in sent.items():
            path = "/v3/contact/get" if status != 404 else "/no/such/page%0Afake line"
            body = {"token": org.token} if status == 200 else {"token": 1}
            answer = org.client.post(path, json=body, headers={"X-Request-ID": request_id})
            assert answer.status_code == status
    finally:
        server.stop()
    lines = log.read_text(encoding="utf-8").splitlines()
    for request_id, status in sent.items():
        [line] = [line for line in lines if line.endswith(f" id={request_id}")]
        assert f'HTTP/1.1" {status} ' in line
    # A client's encoded newline stays inside its own line.
    assert not any(line.startswith("fake line") for line in lines)


def test_a_forged_request_gets_exactly_one_well_formed_line(tmp_path: Path) -> None:
    """A forwarded address, path and query that each try to write a line of their own.

    The address carries a byte 0x85 (U+0085, NEL, once read as Latin-1), the path a
    %0A, %C2%85 and %E2%80%A8 (U+2028), each followed by a made-up line.
    """
    log = tmp_path / "server.log"
    # The loopback is a trusted proxy, so that the forged address reaches the log if
    # the server takes it at all.
    server = Server(
        f"sqlite:///{tmp_path / 'forged.db'}",
        env={**SHARED_SERVER_ENV, "CONTACTHUB_TRUSTED_PROXIES": "127.0.0.1"},
    )
    server.start(log)
    forged = b'127.0.0.1:1 - "GET /admin HTTP/1.1" 200 0.1ms id=forged'
    request = (
        b"GET /x%22%20200%201.0ms%20id=a%0A" + forged.replace(b" ", b"%20").replace(b'"', b"%22")
        + b"%C2%85%E2%80%A8?q=%0A" + forged.replace(b" ", b"+").replace(b'"', b"%22")
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: forged-line\r\n"
        + b"X-Forwarded-For: evil\x85 - " + forged + b"\r\n"
        + b"Connection: close\r\n\r\n"
    )  # fmt: skip
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request)
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 404 "), answer[:200]
    finally:
        server.stop()
    # Read as a Unicode-aware reader does, which also ends lines at U+0085, U+2028, U+2029.
    lines = log.read_bytes().decode("utf-8").splitlines(keepends=True)
    [line] = [line for line in lines if "forged-line" in line or "admin" in line]
    assert LINE.fullmatch(line), line
