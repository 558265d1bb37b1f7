# Two entry points (see README.md): `make run` and `make test`.
# Both create .venv and install Whimbrel with its dev extras on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: the example shop project, on SQLite.
run: $(STAMP)
	cd migrations_example && ../$(BIN)/whimbrel upgrade heads
	cd migrations_example && ../$(BIN)/whimbrel current
	cd migrations_example && ../$(BIN)/whimbrel history --graph --indicate-current

# The whole test suite, in parallel, with branch coverage.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto -p no:cacheprovider --cov=whimbrel --cov-branch --cov-report=term:skip-covered

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks migrations_example
	$(BIN)/ruff format --check src tests benchmarks migrations_example
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.*
