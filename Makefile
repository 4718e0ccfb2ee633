# The single entry point. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Best effort: the console's browser test drives Debian's chromium (it skips without it).
	command -v chromium >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium) || true
	touch $(STAMP)

## run: the whole system on local stand-ins with demo traffic (Ctrl-C stops it)
run: install
	$(BIN)/cityops demo

## test: install everything and run the whole suite (unit, integration, e2e, compose)
test: install
	$(BIN)/python -m pytest -q

## test-fast: only the tests that need no server
test-fast: install
	$(BIN)/python -m pytest -q -m "not integration and not e2e"

lint: install
	$(BIN)/ruff check cityops services tests bench
	$(BIN)/ruff format --check cityops services tests bench

typecheck: install
	$(BIN)/mypy cityops services

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
