# Opinion Barometer. Every target sets up what it needs, on a fresh clone as after any other
# target; `make help` lists them all (from the `## target: …` line above each).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime) when the machine has it, else python3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
            $$p -c 'import sys' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
BAROMETER := $(VENV)/bin/barometer
# One pytest invocation for every suite: two workers, tests of one xdist_group on one worker.
PYTEST := $(PY) -m pytest -q -n 2 --dist loadgroup
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup setup-dev demo serve test lint unit integration e2e bench mutation chromium node clean

## help: list the targets
help:
	@awk '/^## [a-z][a-z0-9-]*: / { t = substr($$0, 4); i = index(t, ": "); \
	  printf "  make %-12s %s\n", substr(t, 1, i - 1), substr(t, i + 2) }' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Runtime + query extras: enough for the demo.
$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[query]'
	@touch $@

# Everything the tests and the infrastructure need (dev tools, AWS, CDK).
$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[dev,infra]'
	@touch $@

## setup: the virtualenv with what the demo needs (.venv)
setup: $(VENV)/.stamp-base

## setup-dev: everything the tests need: dev extras, Chromium, node_modules
setup-dev: $(VENV)/.stamp-dev chromium node

## chromium: Debian's Chromium for the browser tests (Playwright's own download cannot work offline)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium"; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

## node: node_modules from package.json (the CDK CLI, axe-core, the local Step Functions runner)
node: node_modules/.stamp
node_modules/.stamp: package.json $(wildcard package-lock.json)
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

## demo: set up, run the whole local pipeline on the demo panel, print the site path
demo: setup
	$(BAROMETER) demo

## serve: preview the site that `make demo` published
serve: setup
	$(BAROMETER) serve

## lint: ruff, mypy (library, infra, each handler) and the import contracts (pyproject.toml)
lint: $(VENV)/.stamp-dev
	$(PY) -m ruff check .
	$(PY) -m mypy
	@# each handler is a top-level `handler` module of its own: one mypy run per function
	@for f in functions/*/handler.py; do $(PY) -m mypy --no-error-summary $$f || exit 1; done
	$(VENV)/bin/lint-imports --no-cache

## unit: the unit tests (no network)
unit: $(VENV)/.stamp-dev
	$(PYTEST) tests/unit

## integration: the integration tests (moto server, the X simulator, local Step Functions)
integration: $(VENV)/.stamp-dev node
	$(PYTEST) tests/integration

## e2e: the whole local pipeline and the site in headless Chromium
e2e: $(VENV)/.stamp-dev chromium node
	$(PYTEST) tests/e2e

## test: set up, lint, type-check and run the whole test suite
test: setup-dev lint
	$(PY) -m pytest -q -n 2 --dist loadgroup

## bench: benchmarks (speed, memory, cost) -> bench/results.json
bench: setup-dev
	$(PY) bench/run.py

## mutation: mutation testing of the core score/collect modules (slow; not in `make test`) -> bench/results.json
mutation: $(VENV)/.stamp-dev
	nice -n 10 $(PY) tests/mutation/run.py

-include mk/infra.mk

## clean: remove what the targets built (out/, build/, cdk.out/, caches; not .venv or node_modules)
clean:
	rm -rf out build cdk.out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
