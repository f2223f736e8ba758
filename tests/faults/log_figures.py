"""Figures of a test run, from the logs of the servers it started.

Every test server logs each request with its status (the access log, edge/access_log.py),
so a run's logs say how many requests a family of tests sent and how many
got a `500`, whatever the tests themselves count. Run pytest with a
`--basetemp` of its own, then:

    .venv/bin/python -m tests.faults.log_figures BASETEMP [LABEL]

prints one line, `LOGS <label> servers=… requests=… server_errors=… locked=…
unhandled=… status_<code>=…`. `unhandled` counts the server's "unhandled
error" lines (an exception that became a `500`); `locked` counts "database
is locked" anywhere in the logs. The exit status is 1 if there was any
`500` or unhandled error.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ACCESS = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3}) ')


def figures(root: Path) -> dict[str, int]:
    statuses: Counter[int] = Counter()
    counts = {"servers": 0, "locked": 0, "unhandled": 0}
    for log in sorted(root.rglob("*.log")):
        counts["servers"] += 1
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if match := ACCESS.search(line):
                statuses[int(match.group(1))] += 1
            counts["locked"] += "database is locked" in line
            counts["unhandled"] += "unhandled error" in line
    return {
        "servers": counts["servers"],
        "requests": sum(statuses.values()),
        "server_errors": sum(
            n for status, n in statuses.items() if status >= 500 and status != 503
        ),
        "locked": counts["locked"],
        "unhandled": counts["unhandled"],
        **{f"status_{status}": n for status, n in sorted(statuses.items())},
    }


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__)
        return 2
    root = Path(argv[0])
    label = argv[1] if len(argv) == 2 else root.name
    found = figures(root)
    print(" ".join([f"LOGS {label}", *(f"{name}={value}" for name, value in found.items())]))
    return 1 if found["server_errors"] or found["unhandled"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
