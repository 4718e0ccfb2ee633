# The single entry point. `make run` and `make test` are the README's two commands.
# They need only Python 3.11+ and make: Python packages go into .venv; nothing else
# is installed, except by `make test` (test-deps, below).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# System packages only tests use: the console's browser test (chromium, and a CJK font so
# Chinese is drawn in screenshots), the sensor test's independent Kafka client (kcat), and
# curl for the Elasticsearch security setup script (tests/deploy).
TEST_DEBS := chromium fonts-wqy-zenhei kcat curl
# 1: `make test-deps` fails when it cannot install them. Default: 1 under CI=true (.ci/run).
REQUIRE_TEST_DEPS ?= $(if $(filter true,$(CI)),1,0)

.PHONY: install run test test-deps test-fast soak lint typecheck clean

## install: .venv with cityops and its development tools (Python packages only)
install: $(STAMP)

$(STAMP): pyproject.toml
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the whole system on local stand-ins with demo traffic (Ctrl-C stops it)
run: install
	$(BIN)/cityops demo

## test-deps: best effort, apt-get install $(TEST_DEBS) when root on Debian/Ubuntu
test-deps:
	@missing=$$(for deb in $(TEST_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$deb 2>/dev/null | grep -q 'install ok installed' || echo $$deb; \
	done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "test-deps: apt-get install" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	    && exit 0; \
	fi; \
	echo "test-deps: not installed:" $$missing "(the tests that need them skip)" >&2; \
	[ "$(REQUIRE_TEST_DEPS)" != 1 ]

## test: install everything and run the whole suite (unit, integration, e2e, compose)
test: install test-deps
	$(BIN)/python -m pytest -q

## test-fast: only the tests that need no server
test-fast: install
	$(BIN)/python -m pytest -q -m "not integration and not e2e"

## soak: the long drills, not part of CI: the dispatch worker killed with 50,000 open cases
soak: install
	CITYOPS_TEST_TOWN_CASES=50000 $(BIN)/python -m pytest -q tests/e2e/test_dispatch_restart_town.py

lint: install
	$(BIN)/ruff check cityops cityctl services tests bench
	$(BIN)/ruff format --check cityops cityctl services tests bench

typecheck: install
	$(BIN)/mypy cityops cityctl services

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
