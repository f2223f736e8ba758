"""`contacthub import`: exact summaries, rejected rows, resume after SIGKILL, round trips."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_remote import run
from tests.conftest import CONTACTHUB, Org, contact, new_org

HEADER = ["First Name", "Last Name", "Mobile", "Email", "Company", "Notes"]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def generated(count: int) -> tuple[list[list[str]], set[int], set[int]]:
    """`count` rows: 3% invalid and 2% repeating an earlier number; the lines of each kind."""
    rows: list[list[str]] = []
    invalid: set[int] = set()
    repeats: set[int] = set()
    for n in range(count):
        line = n + 2  # the header is line 1
        phone = f"+91 93{n:08d}"
        row = [f"First{n}", f"Last{n}", phone, f"user{n}@example.com", "Acme", "x"]
        if n % 100 in (7, 37, 77):
            row[2 if n % 2 else 0] = "12" if n % 2 else ""
            invalid.add(line)
        elif n % 100 in (50, 90):
            row[2] = f"+91 93{n - 1:08d}"
            repeats.add(line)
        rows.append(row)
    return rows, invalid, repeats


def login_args(org: Org) -> list[str]:
    return ["--url", org.server.url, "--user-id", org.user_id, "--password", org.password]


def test_a_large_import_gives_the_exact_summary_and_rejected_file(org: Org, tmp_path: Path) -> None:
    rows, invalid, repeats = generated(20_000)
    source = write_csv(tmp_path / "big.csv", rows)
    done = run("import", str(source), *login_args(org), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "added": 20_000 - len(invalid) - len(repeats),
        "updated": 0,
        "skipped": 0,
        "rejected": len(invalid) + len(repeats),
    }
    with (tmp_path / "big.csv.rejected.csv").open(newline="", encoding="utf-8") as file:
        rejected = list(csv.DictReader(file))
    assert {int(row["line"]) for row in rejected} == invalid | repeats
    assert all(row["reason"] for row in rejected)
    assert org.get().json()["count"] == 20_000 - len(invalid) - len(repeats)
    assert not (tmp_path / "big.csv.checkpoint").exists()


def test_skip_counts_repeats_as_skipped_and_a_rerun_skips_everything(
    org: Org, tmp_path: Path
) -> None:
    rows, invalid, repeats = generated(1_000)
    source = write_csv(tmp_path / "c.csv", rows, delimiter=";")
    first = run("import", str(source), *login_args(org), "--on-duplicate", "skip", "--json")
    assert json.loads(first.stdout) == {
        "added": 1_000 - len(invalid) - len(repeats),
        "updated": 0,
        "skipped": len(repeats),
        "rejected": len(invalid),
    }
    again = run("import", str(source), *login_args(org), "--on-duplicate", "skip", "--json")
    assert json.loads(again.stdout)["skipped"] == 1_000 - len(invalid)
    assert json.loads(again.stdout)["added"] == 0


def test_update_applies_later_rows_over_earlier_ones(org: Org, tmp_path: Path) -> None:
    org.add([contact("919300000001", "Old", "Name")])
    source = write_csv(
        tmp_path / "u.csv",
        [
            ["New", "Name", "919300000001", "", "", ""],
            ["Fresh", "One", "919300000002", "", "", ""],
            ["Later", "One", "919300000002", "", "Acme", ""],
        ],
    )
    done = run("import", str(source), *login_args(org), "--on-duplicate", "update", "--json")
    assert json.loads(done.stdout) == {"added": 1, "updated": 2, "skipped": 0, "rejected": 0}
    names = {c["phone_no"]: (c["first_name"], c["company"]) for c in org.get().json()["contacts"]}
    assert names == {"919300000001": ("New", None), "919300000002": ("Later", "Acme")}


def test_an_import_killed_halfway_resumes_without_losing_or_repeating_a_row(
    org: Org, tmp_path: Path
) -> None:
    rows, invalid, repeats = generated(12_000)
    source = write_csv(tmp_path / "k.csv", rows)
    checkpoint = tmp_path / "k.csv.checkpoint"
    process = subprocess.Popen(
        [CONTACTHUB, "import", str(source), *login_args(org), "--workers", "2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if checkpoint.exists() and len(checkpoint.read_text().splitlines()) > 40:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert checkpoint.exists()
    stored_before = org.get().json()["count"]
    assert 0 < stored_before < 12_000 - len(invalid) - len(repeats)

    refused = run("import", str(source), *login_args(org), "--json")
    assert refused.returncode == 2
    assert "--resume" in refused.stderr

    resumed = run("import", str(source), *login_args(org), "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    expected = 12_000 - len(invalid) - len(repeats)
    assert json.loads(resumed.stdout) == {
        "added": expected,
        "updated": 0,
        "skipped": 0,
        "rejected": len(invalid) + len(repeats),
    }
    assert org.get().json()["count"] == expected
    phones = set()
    page_state = None
    while True:
        body = org.get(limit=100, page_state=page_state).json()
        phones |= {c["phone_no"] for c in body["contacts"]}
        page_state = body["page_state"]
        if page_state is None:
            break
    assert len(phones) == expected


def test_export_then_import_into_a_fresh_organization_round_trips_every_field(
    org: Org, tmp_path: Path
) -> None:
    org.add(
        [
            contact("919300000101", "Zoë", "山田", email_id="z@example.org", company="Ac, me"),
            contact("919300000102", "Ann", "O'Neil", job_title='The "Boss"'),
        ]
    )
    exported = tmp_path / "export.csv"
    assert run("export", *login_args(org), "-o", str(exported)).returncode == 0
    other = new_org(org.server)
    done = run("import", str(exported), *login_args(other), "--json")
    assert json.loads(done.stdout)["added"] == 2
    fields = ["phone_no", "first_name", "last_name", "email_id", "company", "job_title"]

    def contents(who: Org) -> list[dict]:
        return [{k: c[k] for k in fields} for c in who.get().json()["contacts"]]

    assert contents(other) == contents(org)


def test_dry_run_sends_nothing(org: Org, tmp_path: Path) -> None:
    rows, invalid, repeats = generated(300)
    source = write_csv(tmp_path / "d.csv", rows)
    done = run("import", str(source), *login_args(org), "--dry-run", "--json")
    report = json.loads(done.stdout)
    assert report["rejected"] == len(invalid) + len(repeats)
    assert report["to_send"] == 300 - report["rejected"]
    assert org.get().json()["count"] == 0


def test_headers_are_mapped_by_alias_or_by_map(org: Org, tmp_path: Path) -> None:
    source = tmp_path / "m.csv"
    source.write_text("Given,Family,Cell No\nA,B,919300000201\n", encoding="utf-8")
    missing = run("import", str(source), *login_args(org))
    assert missing.returncode == 2
    assert "first_name" in missing.stderr
    done = run(
        "import", str(source), *login_args(org), "--json",
        "--map", "Given=first_name", "--map", "Family=last_name", "--map", "Cell No=phone_no",
    )  # fmt: skip
    assert json.loads(done.stdout)["added"] == 1


@pytest.mark.parametrize("region", ["IN", "in"])
def test_default_region_reads_national_numbers_locally(
    org_in: Org, tmp_path: Path, region: str
) -> None:
    source = write_csv(tmp_path / "r.csv", [["A", "B", "09300000301", "", "", ""]])
    without = run("import", str(source), *login_args(org_in), "--dry-run", "--json")
    assert json.loads(without.stdout)["rejected"] == 1
    done = run("import", str(source), *login_args(org_in), "--default-region", region, "--json")
    assert json.loads(done.stdout)["added"] == 1
