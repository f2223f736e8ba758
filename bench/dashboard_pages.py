"""Server time of the dashboard's contact list with a large organization.

What it measures: how long `GET /` (the dashboard's list page, rendered in
full) takes when one organization holds N contacts (default 100,000): the
first page, the second page (through its `page_state` link), and searches by
a common first-name prefix, a rare full last name, a company prefix, and a
7-digit phone fragment; also the fragment that search-as-you-type fetches.
Times are wall-clock times of one HTTP client on loopback, sequential, 3
warm-up requests then `--repeat` timed; they bound the server's time from
above. The table gives p50/p95/max in milliseconds.

What it does: migrates a fresh database (SQLite in a temporary directory, or
with `--postgres-url` a fresh PostgreSQL database dropped at the end), makes
an app with `contacthub app create`, a user through `v2/user/add`, then loads
the contacts in-process through the server's own field rules
(`parse_contact_batch`) and storage (`storage.contacts.insert_new`), 1,000
per transaction; starts `contacthub serve`, logs in through the dashboard's
login form, and measures.

    .venv/bin/python bench/dashboard_pages.py [--contacts 100000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from random import Random

import httpx
from _harness import (
    create_app,
    log_in,
    migrate,
    nearest_rank,
    postgres_database,
    running_server,
)

from contacthub.domain.contacts import MAX_BATCH, parse_contact_batch
from contacthub.storage import contacts
from contacthub.storage.database import Database

FIRST = (
    *("Asha", "Ravi", "Meera", "Tom", "Li", "Sofia", "Amara", "Jonas", "Yuki", "Omar"),
    *("Grace", "Arjun", "Priya", "Kiran", "Anil", "Sunita", "Vikram", "Neha", "Rahul", "Deepa"),
)
LAST = (
    *("Rao", "Iyer", "Nair", "Becker", "Wei", "Rossi", "Okafor", "Berg", "Sato", "Haddad"),
    *("Kim", "Sharma", "Gupta", "Reddy", "Menon", "Pillai", "Das", "Bose", "Khan", "Singh"),
)
COMPANIES = [f"{word} {kind}" for word in ("Acme", "Globex", "Initech", "Umbrella", "Stark",
             "Wayne", "Tyrell", "Cyberdyne", "Hooli", "Vandelay")
             for kind in ("Corp", "Labs", "Traders", "Foods", "Motors")]  # fmt: skip
RARE_LAST = "Zylberstein"
BATCH = 1000


def sample(index: int, rng: Random) -> dict[str, str]:
    first = rng.choice(FIRST)
    last = RARE_LAST if index == 54_321 else rng.choice(LAST)
    return {
        "phone_no": f"+91 9{(index * 7_919 + 10_000_000) % 1_000_000_000:09d}",
        "first_name": first,
        "last_name": last,
        "email_id": f"{first}.{last}{index}@example.com".lower(),
        "company": rng.choice(COMPANIES),
        "job_title": rng.choice(["Engineer", "Buyer", "CTO", "Sales lead", "Support"]),
    }


# The middle digits of one contact's number.
PHONE_DIGITS = sample(12_345, Random(0))["phone_no"].replace(" ", "")[6:13]


def load(database_url: str, app_id: int, total: int) -> float:
    started = time.perf_counter()
    rng = Random(7)
    database = Database(database_url)
    try:
        for start in range(0, total, BATCH):
            wanted = [sample(i, rng) for i in range(start, min(start + BATCH, total))]
            drafts = []
            for chunk in range(0, len(wanted), MAX_BATCH):
                checked, problems = parse_contact_batch(
                    wanted[chunk : chunk + MAX_BATCH], default_region=None
                )
                assert not problems, problems[:3]
                drafts += checked
            with database.transaction(write=True) as connection:
                created = contacts.insert_new(
                    connection, app_id=app_id, drafts=drafts, now_ms=int(time.time() * 1000)
                )
            assert len(created) == len(drafts)
    finally:
        database.dispose()
    return time.perf_counter() - started


def dashboard_login(client: httpx.Client, user_id: str, password: str) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    answer = client.post(
        "/login", data={"csrf_token": csrf.group(1), "user_id": user_id, "password": password}
    )
    assert answer.status_code == 303, answer.text


def timed(client: httpx.Client, url: str, repeat: int) -> tuple[list[float], str]:
    for _ in range(3):
        answer = client.get(url)
        assert answer.status_code == 200, answer.text
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    count = re.search(r'<p class="count">\s*([\d,]+ contacts?)', answer.text)
    return sorted(times), count.group(1) if count else "?"


def measure(base_url: str, user_id: str, password: str, repeat: int) -> None:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        dashboard_login(client, user_id, password)
        first = client.get("/").text
        next_link = re.search(r'href="(/\?q=&amp;page_state=[^"]+)" rel="next"', first)
        assert next_link
        cases = [
            ("first page", "/"),
            ("second page", next_link.group(1).replace("&amp;", "&")),
            ("search first-name prefix 'pri'", "/?q=pri"),
            (f"search rare last name '{RARE_LAST}'", f"/?q={RARE_LAST}"),
            ("search company prefix 'globex l'", "/?q=globex+l"),
            (f"search 7 phone digits '{PHONE_DIGITS}'", f"/?q={PHONE_DIGITS}"),
            ("search-as-you-type fragment 'pri'", "/?q=pri&partial=1"),
        ]
        print(f"{'case':44} {'p50':>7} {'p95':>7} {'max':>7}  count")
        for name, url in cases:
            times, count = timed(client, url, repeat)
            p50, p95 = nearest_rank(times, 0.5), nearest_rank(times, 0.95)
            print(f"{name:44} {p50:7.1f} {p95:7.1f} {times[-1]:7.1f}  {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres-url", help="an admin URL; SQLite when absent")
    args = parser.parse_args()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dashboard-")))
        if args.postgres_url:
            database_url = stack.enter_context(postgres_database(args.postgres_url))
        else:
            database_url = f"sqlite:///{workdir / 'contacthub.db'}"
        migrate(database_url)
        app = create_app(database_url)
        server = stack.enter_context(running_server(database_url, workdir / "server.log"))
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            log_in(client, app)
        seconds = load(database_url, app.appid, args.contacts)
        backend = "PostgreSQL" if args.postgres_url else "SQLite"
        print(f"{backend}: {args.contacts:,} contacts loaded in {seconds:.1f} s")
        measure(server.base_url, f"101_{app.appid}", "bench password", args.repeat)


if __name__ == "__main__":
    main()
