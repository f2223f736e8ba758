"""Fault tests: killed servers, cut database connections, several worker processes under load.

Each test starts servers of its own on a database of its own, because it
kills them. Each prints one `FAULT ...` figure line (see `pytest -s`) that
docs/reliability.md quotes. CONTACTHUB_SOAK=1 runs the long variants.
"""
