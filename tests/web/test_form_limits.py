"""Dashboard forms are bounded before they are parsed: a flood costs the server neither memory
nor disk, and is answered 413 with the limit (issue 15, finding 1).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import contact
from tests.web.attack import MiB, Watch, figure_line, post_raw
from tests.web.conftest import Dashboard, Launch

FORM_LIMIT = 64 * 1024
FLOOD_MIB = 100
# Far below the flood, far above what parsing 64 KiB and drawing one page take.
RSS_BOUND = 16 * MiB


def _fields(count: int, size: int) -> Iterator[bytes]:
    """`count` urlencoded fields of `size` bytes each, one chunk per field."""
    for number in range(count):
        yield (b"&" if number else b"") + f"f{number}=".encode() + b"x" * size


def test_a_flood_of_login_fields_is_refused_before_it_is_read(launch: Launch) -> None:
    own = launch()
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    length = sum(len(chunk) for chunk in _fields(FLOOD_MIB, 0)) + FLOOD_MIB * (MiB - 100)
    declared = [*form, ("Content-Length", str(length))]
    figures = {}
    for name, headers in (("declared", declared), ("chunked", form)):
        with Watch(own.pid, own.temp_dir) as watch:
            answer = post_raw(own.server.url, "/login", headers, _fields(FLOOD_MIB, MiB - 100))
        assert answer.status_code == 413, answer.text
        assert "64 KiB" in answer.text
        assert watch.rss_growth < RSS_BOUND, (name, watch.rss_growth)
        figures[f"{name}_rss_growth_mib"] = round(watch.rss_growth / MiB, 1)
        figures[f"{name}_sent_mib"] = round(answer.sent / MiB, 1)
    # The server still answers, and a real login still works.
    assert Dashboard(own.new_org()).login().http.get("/").status_code == 200
    figure_line("login-flood", flood_mib=FLOOD_MIB, **figures)


def test_a_huge_file_part_sent_to_login_never_reaches_the_disk(launch: Launch) -> None:
    own = launch()
    boundary = "b0undary"
    headers = [("Content-Type", f"multipart/form-data; boundary={boundary}")]

    def body() -> Iterator[bytes]:
        # A file part that never ends.
        disposition = 'Content-Disposition: form-data; name="f"; filename="a"'
        yield f"--{boundary}\r\n{disposition}\r\n\r\n".encode()
        for _ in range(FLOOD_MIB):
            yield b"y" * MiB

    declared = [*headers, ("Content-Length", str(sum(len(chunk) for chunk in body())))]
    figures = {}
    for name, sent_headers in (("declared", declared), ("chunked", headers)):
        with Watch(own.pid, own.temp_dir) as watch:
            answer = post_raw(own.server.url, "/login", sent_headers, body())
        # Unannounced, whichever comes first refuses it: the 64 KiB, or a file where none goes.
        assert answer.status_code in ((413,) if name == "declared" else (400, 413)), answer.text
        # Starlette spools a file part to disk past 1 MiB: it never got that far.
        assert watch.temp_peak < MiB, watch.temp_peak
        assert watch.rss_growth < RSS_BOUND
        figures[f"{name}_temp_peak_kib"] = round(watch.temp_peak / 1024)
        figures[f"{name}_rss_growth_mib"] = round(watch.rss_growth / MiB, 1)
    figure_line("login-file-part", part_mib=FLOOD_MIB, **figures)


def test_every_form_is_bounded_and_a_too_large_one_changes_nothing(dashboard: Dashboard) -> None:
    assert dashboard.org.add([contact("+919200000001")]).status_code == 200
    [stored] = dashboard.contacts()
    path = f"/contacts/{stored['contact_id']}"
    padding = "x" * FORM_LIMIT
    attempts = [
        ("/contacts/new", {"phone_no": "+919200000002", "first_name": "A", "last_name": padding}),
        (f"{path}/edit", {"phone_no": "+919200000003", "first_name": padding, "last_name": "B"}),
        (f"{path}/delete", {"padding": padding}),
        ("/logout", {"padding": padding}),
    ]
    for target, data in attempts:
        answer = dashboard.post(target, data)
        assert answer.status_code == 413, (target, answer.text)
        assert "64 KiB" in answer.text
        assert "Nothing was" in answer.text
    assert dashboard.contacts() == [stored]
    assert dashboard.http.get("/").status_code == 200  # the refused logout did not log out


@pytest.mark.parametrize(
    ("data", "files", "message"),
    [
        ({f"f{n}": "1" for n in range(40)}, None, "Too many fields"),
        ({}, {"f": ("a.txt", b"x", "text/plain")}, "Too many files"),
    ],
)
def test_login_takes_a_handful_of_fields_and_no_file(
    dashboard: Dashboard, data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None,
    message: str,
) -> None:  # fmt: skip
    answer = dashboard.http.post("/login", data=data, files=files)
    assert answer.status_code == 400, answer.text
    assert message in answer.text


def test_a_contact_form_with_too_many_fields_is_refused_by_name(dashboard: Dashboard) -> None:
    data = {"phone_no": "+919200000002", "first_name": "A", "last_name": "B"}
    answer = dashboard.post("/contacts/new", {**data, **{f"f{n}": "1" for n in range(40)}})
    assert answer.status_code == 400
    assert "Too many fields" in answer.text
    assert dashboard.contacts() == []
