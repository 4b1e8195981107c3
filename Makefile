# The two commands of the README. Both bootstrap what they need first.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup test demo unit lint bench bench-quick clean

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

# Ours against the floor on fresh local clusters (benchmarks/); e.g. make bench BENCH_ARGS="--sizes 7,50".
bench: setup
	@$(PY) -m benchmarks $(BENCH_ARGS)

bench-quick: setup
	@$(PY) -m benchmarks --quick $(BENCH_ARGS)

clean:
	rm -rf .venv .tools tests/output .cache
