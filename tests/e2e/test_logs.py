"""No secret, token or password ever reaches the server's log."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import SHARED_SERVER_ENV, Server, contact, new_org


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
