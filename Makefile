PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck screenshot bench bench-peers soak wrk bench-search clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the project's dependencies change. Serving needs the package alone;
# testing and linting need the test extras too: each has a stamp of its own.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The benchmarks' own tools (plots, process memory, the profiler): not needed to run or test.
$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

run: $(VENV)/.installed-serve
	$(BIN)/contacthub serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a downloaded one): installed
# here where apt-get exists and /usr/bin/chromium does not. Should that fail (no
# root, no network), make goes on and the browser tests skip, saying why.
$(VENV)/.chromium: | $(BIN)/python
	@if [ -x /usr/bin/chromium ] || ! command -v apt-get >/dev/null; then touch $@; \
	elif apt-get install -y --no-install-recommends chromium \
		|| (apt-get update && apt-get install -y --no-install-recommends chromium); then touch $@; \
	else echo "warning: could not install chromium; the browser tests will skip" >&2; fi

test: lint typecheck $(VENV)/.chromium
	$(BIN)/pytest

# The README's picture of the dashboard, taken by the browser test (tests never write it).
screenshot: $(VENV)/.installed $(VENV)/.chromium
	CONTACTHUB_DASHBOARD_SCREENSHOT=$(CURDIR)/docs/dashboard.png $(BIN)/pytest -q tests/browser -k visit

# The benchmarks' load generator, from Debian's packages (needs root, as apt-get does).
wrk:
	@command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)

# Datasette, the nearest peer, in a virtualenv of its own on the same Python as $(VENV).
PEER_DATASETTE := bench/.peers/datasette
$(PEER_DATASETTE)/.installed: | $(BIN)/python
	$(BIN)/python -m venv $(PEER_DATASETTE)
	$(PEER_DATASETTE)/bin/python -m pip install --quiet 'datasette==1.0a41'
	touch $@

# contacthub on SQLite and PostgreSQL, Datasette and the raw insert ceiling, side by side
# (about 11 minutes); writes docs/benchmarks.md and docs/benchmarks-throughput.png.
bench: $(VENV)/.installed-bench $(PEER_DATASETTE)/.installed wrk
	$(BIN)/python bench/throughput.py

bench-peers: $(VENV)/.installed-bench $(PEER_DATASETTE)/.installed wrk
	$(BIN)/python bench/throughput.py --systems datasette

# The long runs (about 40 minutes): the soak variants of the fault tests and of the fast
# paths' equivalence tests (CONTACTHUB_SOAK=1; with CONTACTHUB_TEST_POSTGRES_URL set, they
# also restart PostgreSQL, see docs/reliability.md), then the server's memory under MINUTES
# (default 10) of load, written to docs/benchmarks-soak.md.
soak: $(VENV)/.installed-bench wrk
	CONTACTHUB_SOAK=1 $(BIN)/pytest -s tests/faults tests/domain/test_phone_fast_path.py \
		tests/domain/test_email_fast_path.py
	$(BIN)/python bench/soak.py --minutes $(or $(MINUTES),10)

# Needs PostgreSQL; CONTACTS (default 1000000) contacts in one organization.
bench-search: $(VENV)/.installed
	$(BIN)/python bench/search_pg.py --contacts $(or $(CONTACTS),1000000)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
