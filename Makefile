# gamesolve: set-up, demo, tests and benchmarks. Needs only python3.11 on PATH.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck unit bench reproduce clean install

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[dev]"
	$(PIP) install --quiet torch==2.13.0
	@touch $(STAMP)

install: $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[dev,bench]"
	@touch $(BENCH_STAMP)

demo: $(STAMP)
	$(VENV)/bin/gamesolve demo

lint: $(STAMP)
	$(VENV)/bin/ruff check gamesolve games solvers experiments tests
	$(VENV)/bin/ruff format --check gamesolve games solvers experiments tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck unit

bench: $(BENCH_STAMP)
	$(PY) -m experiments.bench_evaluation
	$(PY) -m experiments.bench_cfr
	$(PY) -m experiments.bench_normal_form
	$(PY) -m experiments.bench_equilibria
	$(PY) -m experiments.bench_nplayer
	$(PY) -m experiments.bench_sequence_form
	$(PY) -m experiments.bench_markov
	$(PY) -m experiments.bench_tournament

reproduce: $(STAMP)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
