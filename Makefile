# cxo — `make demo` and `make test` do all set-up themselves.
SHELL := /bin/bash
UV := $(shell scripts/ensure-uv.sh)
RUN := $(UV) run --frozen --all-extras
PYTEST_ARGS ?=

.PHONY: setup system-deps demo test test-fast lint format bench i18n clean

setup:  ## .venv with the locked dependencies (idempotent)
	@$(UV) sync --locked --all-extras --quiet

system-deps:  ## PostgreSQL, Chromium and Java for the test suite (apt-get when missing)
	@scripts/ensure-system-deps.sh

demo: setup  ## set up a demo store and serve it on http://127.0.0.1:8765
	$(RUN) cxo demo

test: setup system-deps lint  ## lint, type-check, then the whole test suite
	$(RUN) pytest $(PYTEST_ARGS)

test-fast: setup  ## the suite without Spark, browser and other slow tests
	$(RUN) pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) mypy

format: setup
	$(RUN) ruff check --fix src tests benchmarks
	$(RUN) ruff format src tests benchmarks

bench: setup  ## run every benchmark script (figures go to docs/benchmarks.md by hand)
	@for b in benchmarks/*.py; do echo "== $$b"; $(RUN) python $$b || exit 1; done

i18n: setup  ## extract messages and update the en / zh_CN catalogs
	$(RUN) pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output \
	  --project cxo --copyright-holder "cxo contributors" -o src/cxo/locale/messages.pot .
	$(RUN) pybabel update -D messages -i src/cxo/locale/messages.pot -d src/cxo/locale \
	  --no-fuzzy-matching --width 100

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache cxo-data
