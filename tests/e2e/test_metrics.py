"""GET /metrics: requests by route template and status, latency, contacts written."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from contacthub.config import Settings
from contacthub.server.app import create_app
from tests.conftest import SHARED_SERVER_ENV, Org, Server, contact

REQUESTS = "contacthub_http_requests_total"
BUCKETS = "contacthub_http_request_duration_seconds_bucket"
COUNT = "contacthub_http_request_duration_seconds_count"

Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], float]


def scrape(url: str) -> Samples:
    """Every sample of the server's /metrics, by name and labels (on a fresh connection)."""
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_counted(samples: Samples, method: str, route: str, status: int) -> float:
    labels = (("method", method), ("route", route), ("status", str(status)))
    return samples.get((REQUESTS, labels), 0.0)


def routes_seen(samples: Samples) -> set[str]:
    return {dict(labels)["route"] for name, labels in samples if name == REQUESTS}


def test_metrics_is_the_prometheus_text_format(server: Server) -> None:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert families["contacthub_http_requests"].type == "counter"
    assert families["contacthub_http_request_duration_seconds"].type == "histogram"
    written = families["contacthub_contacts_written"]
    assert written.type == "counter"
    operations = {s.labels["operation"] for s in written.samples if s.name.endswith("_total")}
    assert operations == {"created", "updated", "deleted"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_other_methods_on_metrics_are_405_in_the_envelope(server: Server, method: str) -> None:
    response = httpx.request(method, f"{server.url}/metrics")
    assert response.status_code == 405
    if method != "HEAD":
        assert response.json() == {"code": 405, "msg": "Method Not Allowed"}


def test_requests_are_counted_by_route_template_and_status(org: Org) -> None:
    url = org.server.url
    before = scrape(url)
    for _ in range(2):
        assert org.get().status_code == 200
    assert httpx.get(f"{url}/v3/contact/nope").status_code == 404
    assert httpx.get(f"{url}/v3/contact/get").status_code == 405
    after = scrape(url)

    def grew(method: str, route: str, status: int) -> float:
        return requests_counted(after, method, route, status) - requests_counted(
            before, method, route, status
        )

    assert grew("POST", "/v3/contact/get", 200) == 2
    assert grew("GET", "unmatched", 404) == 1
    assert grew("GET", "/v3/contact/get", 405) == 1
    assert grew("GET", "/metrics", 200) == 1  # the first scrape
    assert "/v3/contact/nope" not in routes_seen(after)


def test_unknown_paths_are_all_labelled_unmatched(server: Server) -> None:
    paths = [f"/{secrets.token_hex(8)}", f"/v3/contact/{secrets.token_hex(8)}", "/v3/contact/add/"]
    before = scrape(server.url)
    for path in paths:
        assert httpx.post(f"{server.url}{path}", json={}).status_code == 404
    response = httpx.get(f"{server.url}/metrics")
    after = scrape(server.url)
    grew = requests_counted(after, "POST", "unmatched", 404) - requests_counted(
        before, "POST", "unmatched", 404
    )
    assert grew == len(paths)
    for path in paths:
        assert f'"{path}"' not in response.text
    assert all(route == "unmatched" or route.startswith("/") for route in routes_seen(after))


def test_the_latency_histogram_has_buckets_for_the_route(org: Org) -> None:
    labels = (("method", "POST"), ("route", "/v3/contact/get"))
    before = scrape(org.server.url)
    assert org.get().status_code == 200
    after = scrape(org.server.url)
    assert after[(COUNT, labels)] - before.get((COUNT, labels), 0.0) == 1
    buckets = {
        dict(key)["le"]: value
        for (name, key), value in after.items()
        if name == BUCKETS and dict(key).items() >= dict(labels).items()
    }
    assert {"0.001", "0.01", "0.1", "1.0", "10.0", "+Inf"} <= set(buckets)
    ordered = sorted(buckets.items(), key=lambda item: float(item[0]))
    counts = [count for _, count in ordered]
    assert counts == sorted(counts), "buckets are cumulative"
    assert buckets["+Inf"] == after[(COUNT, labels)]


def test_an_exception_in_a_route_is_counted_as_500(tmp_path: Path) -> None:
    """In process: the metrics see the 500 that the envelope middleware makes."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'contacthub.db'}"))

    async def explode() -> None:
        raise RuntimeError("boom")

    route = f"/explode-{secrets.token_hex(4)}/{{n}}"
    app.add_api_route(route, explode)
    labels = {"method": "GET", "route": route, "status": "500"}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(route.replace("{n}", "7"))

    response = asyncio.run(call())
    assert response.status_code == 500
    assert response.json() == {"code": 500, "msg": "Something went wrong!"}
    assert REGISTRY.get_sample_value(REQUESTS, labels) == 1
    app.state.context.database.dispose()


@pytest.fixture(scope="module")
def two_worker_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    running = Server(database_url, env=SHARED_SERVER_ENV, workers=2)
    running.start(tmp_path_factory.mktemp("metrics-workers") / "server.log")
    yield running
    running.stop()


def test_metrics_are_summed_over_worker_processes(two_worker_server: Server) -> None:
    url = two_worker_server.url
    before = requests_counted(scrape(url), "GET", "/healthz", 200)
    for _ in range(20):
        # A fresh connection each time, so that both workers get some.
        assert httpx.get(f"{url}/healthz").status_code == 200
    # Whichever worker answers the scrape, it reports every worker's requests.
    for _ in range(5):
        after = requests_counted(scrape(url), "GET", "/healthz", 200)
        assert after - before >= 20


def contacts_written(samples: Samples, operation: str) -> float:
    return samples.get(("contacthub_contacts_written_total", (("operation", operation),)), 0.0)


def test_contacts_written_counts_committed_writes_only(org: Org) -> None:
    before = scrape(org.server.url)
    added = org.add([contact("919700000001"), contact("919700000002")]).json()["contacts"]
    org.add([contact("919700000001")])  # a 409 writes nothing
    org.add([contact("919700000003")], validate_only=True)  # a dry run writes nothing
    org.add([contact("919700000002", first="New")], on_duplicate="update")
    org.post(
        "/v3/contact/update",
        {"token": org.token, "contacts": [{"contact_id": added[0]["contact_id"], "company": "X"}]},
    )
    org.post("/v3/contact/delete", {"token": org.token, "contact_ids": [added[1]["contact_id"]]})
    after = scrape(org.server.url)
    # Other tests may write meanwhile on a shared server; these are lower bounds.
    assert contacts_written(after, "created") - contacts_written(before, "created") >= 2
    assert contacts_written(after, "updated") - contacts_written(before, "updated") >= 2
    assert contacts_written(after, "deleted") - contacts_written(before, "deleted") >= 1
