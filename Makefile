# The two commands of the README: `make setup` (then `.venv/bin/python run.py`) and `make test`.
# Both are idempotent: a stamp file re-runs an install only when pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup setup-test run test lint bench bench-setup clean

setup: $(VENV)/.run-installed

setup-test: $(VENV)/.test-installed

$(BIN)/python:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null \
	  || scripts/system-packages python3-venv python3-pip
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml package-lock.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@command -v npm >/dev/null || scripts/system-packages nodejs npm
	npm ci --no-audit --no-fund --ignore-scripts --omit=peer --loglevel=error
	@touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.run-installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: setup
	$(BIN)/python run.py

# Lint, types (app and tests), then the whole pytest suite: what CI runs.
test: lint
	scripts/system-packages redis-server chromium nginx openssl prometheus
	$(BIN)/python -m pytest

lint: setup-test
	$(BIN)/ruff check chatapp handlers stores tests bench deploy run.py
	$(BIN)/ruff format --check chatapp handlers stores tests bench deploy run.py
	$(BIN)/mypy

# The references bench/compare.py measures chatapp against (Node, Flask) and wrk.
bench-setup: $(VENV)/.bench-installed

$(VENV)/.bench-installed: pyproject.toml bench/reference/node/package-lock.json $(VENV)/.test-installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	npm ci --prefix bench/reference/node --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

bench: bench-setup
	scripts/system-packages redis-server wrk
	$(BIN)/python bench/compare.py
	$(BIN)/python bench/stores.py
	$(BIN)/python bench/deflate_worth.py
	$(BIN)/python bench/social.py
	$(BIN)/python bench/room_history.py
	$(BIN)/python bench/notification_depth.py
	$(BIN)/python bench/cluster.py

clean:
	rm -rf $(VENV) var node_modules bench/reference/node/node_modules test-artifacts .pytest_cache *.egg-info
