# Opinion Barometer — `make demo` and `make test` work on a fresh clone: they set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime) when the machine has it, else python3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
            $$p -c 'import sys' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
BAROMETER := $(VENV)/bin/barometer
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help demo test lint bench synth serve clean setup setup-dev chromium node

help:
	@echo "make demo   set up, run the whole local pipeline on the demo panel, print the site path"
	@echo "make test   set up, lint, type-check and run the whole test suite"
	@echo "make bench  benchmarks (speed, memory, cost) -> bench/results.json"
	@echo "make synth  synthesize the CDK app offline (cdk.out/)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Runtime + query extras: enough for the demo.
$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[query]'
	@touch $@

# Everything the tests need (dev tools, AWS, CDK).
$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[dev,infra]'
	@touch $@

setup: $(VENV)/.stamp-base
setup-dev: $(VENV)/.stamp-dev chromium node

# Debian's Chromium for the browser tests (Playwright's own download cannot work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium"; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

# node_modules: the CDK CLI (aws-cdk) and axe-core for the accessibility checks.
node: node_modules/.stamp
node_modules/.stamp: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BAROMETER) demo

serve: setup
	$(BAROMETER) serve

lint: $(VENV)/.stamp-dev
	$(PY) -m ruff check .
	$(PY) -m mypy
	@# each handler is a top-level `handler` module of its own: one mypy run per function
	@for f in functions/*/handler.py; do $(PY) -m mypy --no-error-summary $$f || exit 1; done

test: setup-dev lint
	$(PY) -m pytest -q -n 2 --dist loadgroup

bench: setup-dev
	$(PY) bench/run.py

-include mk/infra.mk

clean:
	rm -rf out build cdk.out .pytest_cache .mypy_cache .ruff_cache
