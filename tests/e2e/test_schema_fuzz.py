"""Schema fuzzing: requests generated from the server's own /openapi.json, every answer checked.

schemathesis reads the running server's OpenAPI document and generates
requests for every operation in it, in both of its modes: positive (requests
the document says are valid) and negative (requests that break it). Every
answer is checked against the document: no 5xx, a documented status, a
documented media type, a body that matches that status's schema, and the
documented headers (`X-Request-ID` on every answer, `Retry-After` on `429`
and `503`, `Idempotent-Replayed` only as documented).

Random credentials alone would only ever reach `400` and `404`, so a share
of the generated requests carry real ones: a real user's token, in the body
or as a Bearer header; a real app id and secret; a real user id and password.
Another share carries the app id and user id of a second app with made-up
secrets and passwords, which gets throttled (`429`). And a share of the
contacts carry phone numbers from a small pool, ids of stored contacts and
cursors the server issued, so that adds, duplicates, upserts, updates,
deletes, paging and idempotent replays are fuzzed too, not only refusals.

The run is repeatable (hypothesis derandomized, the swaps seeded by each
case's place in the run) and bounded by `BUDGET`. It prints, for
docs/reliability.md, a line such as

    schema-fuzz: backend=sqlite requests=2104 server_errors=0 schema_violations=0 ...

and the statuses answered per operation; a failure lists each kind of
violation once, with a curl command that reproduces it.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

try:
    from fastapi.routing import iter_route_contexts
except ImportError:
    iter_route_contexts = None

from contacthub.api import docs_page
from contacthub.config import Settings
from contacthub.server.app import create_app
from contacthub.web import ROUTERS as DASHBOARD_ROUTERS
from tests.conftest import Org, Server, new_org

# Examples per operation: (positive, negative). Logins and user adds hash
# passwords (argon2, ~0.1 s each) and adds and updates are slow to generate, so
# they get fewer; operations without a body have nothing to break, so no
# negative examples. schemathesis leaves out the document's own path,
# /openapi.json, which it has loaded instead.
BUDGET: dict[str, tuple[int, int]] = {
    "POST /v2/user/add": (80, 60),
    "POST /v2/user/login": (24, 60),
    "POST /v2/user/logout": (20, 30),
    "POST /v3/contact/add": (160, 90),
    "POST /v3/contact/get": (450, 300),
    "POST /v3/contact/update": (130, 80),
    "POST /v3/contact/delete": (320, 110),
    "GET /healthz": (40, 0),
    "GET /readyz": (40, 0),
    "GET /metrics": (40, 0),
    "GET /docs": (40, 0),
}
MIN_REQUESTS = 2000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Valid numbers of India (the README's), so that adds succeed, then collide.
PHONES = [f"+91 92000 {n:05d}" for n in range(40)]
# How a generated request gets its credentials.
AS_GENERATED, REAL, THROTTLED, BEARER = "as generated", "real", "throttled", "bearer"


@dataclass
class Failure:
    operation: str
    status: int
    title: str
    message: str
    curl: str


@dataclass
class Fuzzer:
    """Sends generated cases with a share of real credentials and data; tallies every answer."""

    server: Server
    org: Org
    # An app whose id and user id get only wrong secrets and passwords: throttled soon.
    victim: Org
    session: requests.Session = field(default_factory=requests.Session)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    server_errors: int = 0
    violations: int = 0
    contact_ids: list[str] = field(default_factory=list)
    cursors: list[tuple[Any, str]] = field(default_factory=list)
    fresh_numbers: Iterator[int] = field(default_factory=itertools.count)
    fresh_keys: Iterator[int] = field(default_factory=itertools.count)
    cases: Iterator[int] = field(default_factory=itertools.count)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def run(self, operation: Any, mode: GenerationMode, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Case) -> None:
            rng = random.Random(f"{operation.label} {mode.value} {next(self.cases)}")
            self.prepare(case, rng, negative=mode == GenerationMode.NEGATIVE)
            response = case.call(base_url=self.server.url, session=self.session, timeout=30)
            self.statuses[(operation.label, response.status_code)] += 1
            if response.status_code >= 500:
                self.server_errors += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                if response.status_code < 500:
                    self.violations += 1
                curl = case.as_curl_command(base_url=self.server.url)
                for failure in group.exceptions:
                    self.failures.append(
                        Failure(
                            operation.label,
                            response.status_code,
                            str(failure.title),
                            failure.message,
                            curl,
                        )
                    )
            self.learn(operation.label, response)

        send()

    # --- real credentials and data, for a share of the cases ---------------------
    # The choices depend on what earlier answers stored (ids, cursors), which
    # hypothesis must not see: it replays draws and insists that they repeat. So
    # a plain Random, seeded by the case's place in the run, makes them.

    def prepare(self, case: Case, rng: random.Random, *, negative: bool) -> None:
        body = case.body
        if not isinstance(body, dict):
            return
        label = case.operation.label
        if label in ("POST /v2/user/add", "POST /v2/user/login"):
            how = rng.choice([REAL, REAL, THROTTLED, AS_GENERATED])
            if label.endswith("/add") and how == REAL:
                body.update(appid=self.org.appid, secret=self.org.secret)
                if rng.random() < 0.5:
                    body["phone_number"] = rng.choice(PHONES)
            elif label.endswith("/add") and how == THROTTLED:
                body["appid"] = self.victim.appid
            elif how == REAL and not negative:  # a login's body is its credentials
                body.update(id=self.org.user_id, password=self.org.password)
            elif how == THROTTLED:
                body["id"] = self.victim.user_id
        elif label.startswith("POST /v3/"):
            how = rng.choice([REAL, REAL, BEARER, AS_GENERATED])
            if how == AS_GENERATED:
                return
            if how == REAL:
                body["token"] = self.org.token
            else:
                body.pop("token", None)
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {self.org.token}"}
            self.realistic(case, body, rng)

    def realistic(self, case: Case, body: dict[str, Any], rng: random.Random) -> None:
        """Swap some generated values for real phone numbers, stored ids, cursors and keys."""
        label = case.operation.label
        contacts = body.get("contacts")
        contacts = contacts if isinstance(contacts, list) else []
        elements = [element for element in contacts if isinstance(element, dict)]
        numbers = rng.choice(["pool", "fresh", "generated"])
        for element in elements:
            if numbers != "generated" and ("phone_no" in element or label.endswith("/add")):
                element["phone_no"] = (
                    rng.choice(PHONES)
                    if numbers == "pool"
                    else f"+91 93{next(self.fresh_numbers):08d}"
                )
        if label.endswith("/update") and rng.random() < 0.7:
            ids = self.stored_ids(len(elements), rng)
            for element, contact_id in zip(elements, ids, strict=False):
                element["contact_id"] = contact_id
        if isinstance(body.get("contact_ids"), list) and rng.random() < 0.5:
            body["contact_ids"] = self.stored_ids(len(body["contact_ids"]), rng) or ["x"]
        if label.endswith("/get"):
            if self.contact_ids and rng.random() < 0.3:
                body["contact_id"] = rng.choice(self.contact_ids)
            elif self.cursors and rng.random() < 0.5:
                search, cursor = rng.choice(self.cursors)
                body.pop("contact_id", None)
                body["page_state"] = cursor
                if rng.random() < 0.7:
                    body["search"] = search
        if case.headers and "Idempotency-Key" in case.headers and rng.random() < 0.5:
            case.headers["Idempotency-Key"] = f"fuzz-{next(self.fresh_keys)}"

    def stored_ids(self, count: int, rng: random.Random) -> list[str]:
        """`count` ids of contacts seen stored (some deleted since), distinct while there are."""
        if not self.contact_ids:
            return []
        start = rng.randrange(len(self.contact_ids))
        ids = self.contact_ids[start:] + self.contact_ids[:start]
        return [ids[i % len(ids)] for i in range(count)]

    def learn(self, label: str, response: requests.Response) -> None:
        """Keep the ids and cursors of successful answers, for later cases to use."""
        if response.status_code != 200 or not label.startswith("POST /v3/"):
            return
        answer = response.json()
        for contact in answer.get("contacts") or []:
            if "contact_id" in contact and contact["contact_id"] not in self.contact_ids:
                self.contact_ids.append(contact["contact_id"])
        del self.contact_ids[:-200]
        if answer.get("page_state"):
            sent = json.loads(response.request.body or b"{}")
            self.cursors.append((sent.get("search"), answer["page_state"]))
            del self.cursors[:-50]

    # --- the report -----------------------------------------------------------------

    def figures(self, backend: str, seconds: float) -> str:
        return (
            f"schema-fuzz: backend={backend} requests={self.requests} "
            f"server_errors={self.server_errors} schema_violations={self.violations} "
            f"operations={len({label for label, _ in self.statuses})} seconds={seconds:.0f}"
        )

    def status_table(self) -> str:
        by_operation: dict[str, dict[int, int]] = {}
        for (label, status), count in sorted(self.statuses.items()):
            by_operation.setdefault(label, {})[status] = count
        return "\n".join(f"  {label}: {counts}" for label, counts in by_operation.items())

    def failure_report(self, limit: int = 10) -> str:
        seen: set[tuple[str, str]] = set()
        lines: list[str] = []
        for failure in self.failures:
            if (failure.operation, failure.title) in seen:
                continue
            seen.add((failure.operation, failure.title))
            lines.append(
                f"{failure.operation} -> {failure.status}: {failure.title}\n"
                f"{failure.message}\n{failure.curl}\n"
            )
        return "\n".join(lines[:limit])


def test_every_answer_matches_the_openapi_document(
    server: Server, org: Org, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(operation.label for operation in operations) == sorted(BUDGET)
    fuzzer = Fuzzer(server, org, victim=new_org(server))
    try:
        for operation in operations:
            positive, negative = BUDGET[operation.label]
            fuzzer.run(operation, GenerationMode.POSITIVE, positive)
            if negative:
                fuzzer.run(operation, GenerationMode.NEGATIVE, negative)
    finally:
        fuzzer.session.close()
        fuzzer.victim.client.close()
    figures = fuzzer.figures(backend, time.monotonic() - started)
    with capsys.disabled():
        print(f"\n{figures}\n{fuzzer.status_table()}")
    assert fuzzer.requests >= MIN_REQUESTS, figures
    assert not fuzzer.failures, f"{figures}\n{fuzzer.failure_report()}"


def served_routes(app: FastAPI) -> Iterator[Any]:
    """Every route the app serves: FastAPI 0.16x keeps included routers apart from app.routes."""
    if iter_route_contexts is None:  # older FastAPI copies included routes into app.routes
        return iter(app.routes)
    return iter_route_contexts(app.routes)


def test_the_document_describes_every_route(tmp_path: Path) -> None:
    """A route added without its documentation would escape the fuzzing above."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    documented = {
        (path, method.upper()) for path, item in app.openapi()["paths"].items() for method in item
    }
    # Starlette answers HEAD wherever it answers GET on the documentation pages; not documented.
    served = {
        (route.path, method)
        for route in served_routes(app)
        for method in route.methods or ()
        if method != "HEAD"
    }
    # The dashboard's HTML pages are for people, and kept out of the document on
    # purpose (tests/web and tests/browser cover them); every other route is in it.
    dashboard = {
        (route.path, method)
        for router in DASHBOARD_ROUTERS
        for route in router.routes
        for method in route.methods
    }
    # The /docs page's script, style and icon are the documented page's own files.
    docs_files = {(path, "GET") for path in docs_page.FILE_PATHS}
    assert served - dashboard - docs_files == documented
