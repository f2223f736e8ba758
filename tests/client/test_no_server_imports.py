"""The client speaks only HTTP: importing it loads nothing of the server."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_PACKAGES = (
    "contacthub.api",
    "contacthub.services",
    "contacthub.storage",
    "contacthub.domain",
    "contacthub.cli",
)


def test_importing_the_client_loads_no_server_module() -> None:
    code = "import json, sys\nimport contacthub.client\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(done.stdout))
    assert "contacthub.client" in modules
    loaded = {m for m in modules if m.split(".")[0] == "contacthub"}
    for package in SERVER_PACKAGES:
        assert not any(m == package or m.startswith(package + ".") for m in loaded), package
    # Nor anything else of the server's: only the package root and the client itself.
    assert {m for m in loaded if not m.startswith("contacthub.client")} == {"contacthub"}
    assert not modules & {"fastapi", "sqlalchemy", "starlette", "uvicorn", "phonenumbers"}
