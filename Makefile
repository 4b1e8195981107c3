# The two commands of the README. Both bootstrap what they need first.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup test demo unit lint clean

setup:
	@scripts/bootstrap.sh

test: setup
	@$(PY) scripts/run_tests.py $(PYTEST_ARGS)

demo: setup
	@$(PY) scripts/demo.py

unit: setup
	@$(PY) scripts/run_tests.py tests/unit

lint: setup
	@$(PY) scripts/run_tests.py tests/quality

clean:
	rm -rf .venv .tools tests/output .cache
