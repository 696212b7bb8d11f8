# Every target sets up what it needs on a fresh machine: the venv is created and filled on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint bench demo clean

install: $(STAMP)

# compileall: where PYTHONDONTWRITEBYTECODE is set, every run would otherwise compile the sources again.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q syncer backends filters
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,lint,bench]' --config-settings editable_mode=compat
	$(BIN)/python bench/bench_listing.py
	$(BIN)/python bench/bench_transfer.py
	$(BIN)/python bench/bench_crypto.py

demo: install
	bash examples/demo.sh

clean:
	rm -rf $(VENV) demo-data bench/.work .pytest_cache .mypy_cache .ruff_cache
