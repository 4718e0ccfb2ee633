# The single entry point. `make run` and `make test` are the README's two commands.
# They need only Python 3.11+ and make: Python packages go into .venv; nothing else
# is installed, except by `make test` (test-deps, below).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# System packages only tests use: the console's browser test (chromium, and a CJK font so
# Chinese is drawn in screenshots), the sensor test's independent Kafka client (kcat),
# curl for the Elasticsearch security setup script (tests/deploy), a real Prometheus and
# promtool (the rules, and the boards' queries against the e2e stack). node/npm, for
# Grafana's dashboard schema, are installed by grafana-schema (below) only when no npm is
# on PATH (a NodeSource nodejs brings its own, and conflicts with Debian's npm).
TEST_DEBS := chromium fonts-wqy-zenhei kcat curl prometheus
# 1: `make test-deps` fails when it cannot install them. Default: 1 under CI=true (.ci/run).
REQUIRE_TEST_DEPS ?= $(if $(filter true,$(CI)),1,0)

# Grafana's dashboard JSON Schema, for the version of the grafana/grafana image in
# docker-compose.yml: generated from the npm package @grafana/schema of that version
# (never copied into the repository). tests/deploy/test_grafana_dashboards.py validates
# every board against it and skips while it is missing.
GRAFANA_VERSION := 11.6.0
GRAFANA_SCHEMA_DIR := .cache/grafana-schema
GRAFANA_SCHEMA := $(GRAFANA_SCHEMA_DIR)/dashboard.schema.json

# The screens' npm packages (frontend/package-lock.json: preact, htm, leaflet), installed
# from the npm registry into frontend/node_modules, never copied into the repository.
# node/npm come from Debian's packages when missing (and root on Debian/Ubuntu).
FRONTEND_STAMP := frontend/node_modules/.installed-stamp

.PHONY: install run test test-deps grafana-schema frontend test-fast soak lint typecheck clean

## install: .venv with cityops and its development tools, and the screens' npm packages
install: $(STAMP) $(FRONTEND_STAMP)

## frontend: npm ci in frontend/ (node and npm from Debian's packages when missing)
frontend: $(FRONTEND_STAMP)

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	@if ! command -v npm >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "frontend: apt-get install nodejs npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	fi; \
	if ! command -v npm >/dev/null; then \
	  echo "frontend: npm not found; install Node.js (Debian: apt-get install nodejs npm)" >&2; \
	  exit 1; \
	fi
	cd frontend && npm ci --no-audit --no-fund --silent
	touch $(FRONTEND_STAMP)

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

## grafana-schema: best effort, $(GRAFANA_SCHEMA) from npm (@grafana/schema@$(GRAFANA_VERSION))
grafana-schema: test-deps
	@if [ -s $(GRAFANA_SCHEMA) ] && [ "$$(cat $(GRAFANA_SCHEMA_DIR)/VERSION 2>/dev/null)" = $(GRAFANA_VERSION) ]; then \
	  exit 0; \
	fi; \
	if ! command -v npm >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "grafana-schema: apt-get install nodejs npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	fi; \
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then \
	  echo "grafana-schema: node/npm not found (the dashboard schema test skips)" >&2; \
	  [ "$(REQUIRE_TEST_DEPS)" != 1 ]; exit $$?; \
	fi; \
	work=$(GRAFANA_SCHEMA_DIR)/build; rm -rf $$work && mkdir -p $$work && cd $$work \
	&& npm pack --silent @grafana/schema@$(GRAFANA_VERSION) >/dev/null \
	&& tar xzf grafana-schema-$(GRAFANA_VERSION).tgz \
	&& npm install --silent --no-save --no-audit --no-fund ts-json-schema-generator@2 typescript@5 \
	&& ./node_modules/.bin/ts-json-schema-generator --no-type-check --type Dashboard \
	  --path package/dist/esm/raw/dashboard/x/dashboard_types.gen.d.ts -o ../dashboard.schema.json \
	&& cd .. && echo $(GRAFANA_VERSION) > VERSION && rm -rf build && exit 0; \
	echo "grafana-schema: could not build $(GRAFANA_SCHEMA) (the dashboard schema test skips)" >&2; \
	[ "$(REQUIRE_TEST_DEPS)" != 1 ]

## test: install everything and run the whole suite (unit, integration, e2e, compose)
# The suite in two runs: everything but the end-to-end tests on two workers (pytest-xdist;
# each worker starts its own stand-ins), then the end-to-end tests one at a time (each
# runs the whole system as processes, and the kill drills want the cores to themselves).
test: install test-deps grafana-schema
	$(BIN)/python -m pytest -q -m "not e2e" -n 2
	$(BIN)/python -m pytest -q -m e2e

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
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .cache
