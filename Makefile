# The README's commands. Each creates the virtual environment itself on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench venv clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## run: create a demo app with generated sessions (first time), then serve the API and dashboard
run: $(STAMP)
	$(BIN)/sessionscope demo --reuse
	$(BIN)/sessionscope serve

## test: the whole test suite (what CI runs)
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

# The browser tests (tests/e2e) drive Debian's Chromium; as root, install it when it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

## bench: the benchmark suite (see bench/README.md); e.g. make bench BENCH_ARGS="--sizes 1000000 --engines duckdb"
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
