# takehold: two commands on a fresh machine.
#   make demo   create .venv if missing, install pinned dependencies, run the demo job
#   make test   the same setup, then the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TAKEHOLD_HOME ?= $(CURDIR)/.takehold
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test setup lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml simulator/pyproject.toml constraints.txt
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/pip install -q -c constraints.txt --no-deps -e ./simulator
	touch $(STAMP)

setup: $(STAMP)

# Debian packages the browser and server tests use (headless Chromium; PostgreSQL 15 binaries).
system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/takehold demo

test: setup system-deps lint
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .takehold .pytest_cache
