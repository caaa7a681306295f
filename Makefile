# The two commands a new machine needs: `make run` and `make test`.
# Both install what they need first (uv from PyPI if missing, then the workspace).

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTHON ?= python3

SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-reliability lint bench bench-lifecycle install uv browser

uv:
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv

install: uv
	$(UV) sync --all-packages --frozen

run: install
	$(UV) run --frozen python -m devstack.stack

# Debian's Chromium for the portal's browser tests (Playwright drives it; it downloads nothing),
# and axe-core, the accessibility checker they run in every page, from npm (tests/package.json,
# pinned by its lock file; Node and npm from Debian when missing).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix tests --no-audit --no-fund --loglevel=error

# Tests run in parallel (pytest-xdist, one worker per core): every test on the platform runs in
# one worker, which takes them first (tests/ leads), while the others take the package tests.
test: install browser
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen pytest -m "not reliability" -n auto --dist loadgroup \
		tests contracts/tests servicekit/tests services devstack/tests

# The load and fault suite (tests/reliability/, about 7 minutes): real service processes
# killed, paused and starved while orders flow, each followed by an audit that nothing was
# lost or done twice. CI runs it after `make test`.
test-reliability: install
	$(UV) run --frozen pytest -m reliability tests/reliability

bench: install
	$(UV) run --frozen python bench/hop.py

# The whole lifecycle on the platform (a few minutes): its ceiling, latencies at half load,
# CPU per 1,000 orders, peak memory and every order's ledger (see the README's Benchmarks).
bench-lifecycle: install
	$(UV) run --frozen python bench/lifecycle.py
