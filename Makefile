# Two commands do everything on a fresh machine:
#   make reproduce   install, then the full reproduction (snakemake --cores 2)
#   make test        install, then the test suite (what CI runs)
#   make quick       the unit tests alone (pytest -m "not slow": no real Snakemake/SLURM runs)
#   make bench       the performance benchmarks -> results/benchmarks/summary.md
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: install reproduce test quick lint smoke bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade "pip>=24"
	$(BIN)/python -m pip install -e ".[workflow,dev]"
	touch $@

reproduce: install
	$(BIN)/snakemake --cores $(CORES)

test: install
	$(BIN)/python -m pytest

quick: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint

smoke: install
	$(BIN)/snakemake --cores $(CORES) --configfile tests/smoke/config.yaml --directory build/smoke

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf results/config results/targets results/reference results/runs results/baselines \
		results/fields results/tables results/figures results/logs results/benchmarks \
		results/checkpoints
