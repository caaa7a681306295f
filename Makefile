# The two commands a new machine needs: `make run` and `make test`.
# Both install what they need first (uv from PyPI if missing, then the workspace).

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTHON ?= python3

.PHONY: run test lint bench install uv

uv:
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv

install: uv
	$(UV) sync --all-packages --frozen

run: install
	$(UV) run --frozen python -m devstack.stack

test: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen pytest

bench: install
	$(UV) run --frozen python bench/hop.py
