# The two commands a new machine needs: `make run` and `make test`.
# Both install what they need first (uv from PyPI if missing, then the workspace).

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTHON ?= python3

SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench install uv browser

uv:
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv

install: uv
	$(UV) sync --all-packages --frozen

run: install
	$(UV) run --frozen python -m devstack.stack

# Debian's Chromium for the portal's browser tests (Playwright drives it; it downloads nothing).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: install browser
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen pytest

bench: install
	$(UV) run --frozen python bench/hop.py
