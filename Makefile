# Two commands do everything: `make demo` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SERVICES ?= postgresql mosquitto chromium victoria-metrics caddy

.PHONY: install demo test suite lint typecheck unit services bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/community demo $(ARGS)

# Bytecode is written even where the environment says not to: without the cache every pytest worker
# compiles and assertion-rewrites ~470 modules again on each run (docs/benchmarks.md, "Test suite").
test suite: export PYTHONDONTWRITEBYTECODE :=

## The whole check: lint, types, and every test against real services. The static checks run
## beside the suite, not before it: they want a core for under a minute, and the suite's workers
## leave a quarter of the cores idle while they wait on services (docs/benchmarks.md, "Test suite").
test: install services
	@$(MAKE) --no-print-directory -j3 lint typecheck suite

# The suite alone, once `make test` has installed and started what it needs.
suite:
	$(BIN)/pytest $(PYTEST_ARGS)

## Install (when missing) and start the services the tests need; fails if one cannot be had.
services:
	bash .ci/services $(SERVICES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

bench: install services
	$(BIN)/python -m benchmarks.run $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data test-artifacts
