"""A password left out is asked for at a terminal, hidden, so that it stays out of shell history.

The commands run on a pseudo-terminal of their own (in a new session, so they
cannot reach the terminal pytest runs in); the test answers each prompt as it
appears, and checks that what it typed was never echoed.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from tests.cli.test_failures import clean_env
from tests.conftest import CONTACTHUB, Org

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def at_terminal(args: list[str], answers: list[str], cwd: Path) -> tuple[int, str]:
    """Run `contacthub args` on a terminal, typing each answer when a prompt waits for it;
    its status, and what it wrote without colours."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [CONTACTHUB, *args],
        stdin=child,
        stdout=child,
        stderr=child,
        env=clean_env(),
        cwd=cwd,
        start_new_session=True,
    )
    os.close(child)
    output, answered_at = b"", -1
    deadline = time.monotonic() + 60
    try:
        while True:
            ready, _, _ = select.select([main], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"no answer in time; so far: {output!r}"
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the command has closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if answers and output.endswith(b": ") and len(output) > answered_at:
                os.write(main, answers.pop(0).encode() + b"\n")
                answered_at = len(output)
        return process.wait(timeout=30), ANSI.sub("", output.decode())
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_init_asks_for_the_password_twice_and_hides_it(tmp_path: Path) -> None:
    password = "typed at the terminal"
    status, output = at_terminal(
        ["init", "--name", "Acme", "--user-name", "Asha", "--phone", "+91 92000 11111",
         "--database-url", f"sqlite:///{tmp_path / 'fresh.db'}", "--json"],
        [password, password],
        tmp_path,
    )  # fmt: skip
    assert status == 0, output
    assert "Password for the first user: " in output
    assert "Repeat for confirmation: " in output
    assert password not in output
    made = json.loads(output[output.index("{") :])
    assert made["user_id"].startswith("101_")


def test_export_asks_for_the_password_of_user_id(org: Org, tmp_path: Path) -> None:
    status, output = at_terminal(
        ["export", "--url", org.server.url, "--user-id", org.user_id, "--format", "jsonl"],
        [org.password],
        tmp_path,
    )
    assert status == 0, output
    assert f"Password for {org.user_id}: " in output
    assert org.password not in output
    assert "Exported 0 contacts" in output


def test_a_wrong_password_typed_is_refused_in_one_line(org: Org, tmp_path: Path) -> None:
    status, output = at_terminal(
        ["login", "--url", org.server.url, "--user-id", org.user_id], ["not it at all"], tmp_path
    )
    assert status == 1
    assert output.splitlines()[-1].startswith("error: ")
    assert "Traceback" not in output
