# The two commands a user needs: `make run` and `make test`.
# Each creates or refreshes the local virtualenv (.venv) when pyproject.toml changes:
# `make run` installs only what running needs; `make test` adds the [dev] tools
# (ruff, mypy, pytest, hypothesis...). Each step has its own stamp file, so
# `make test` after `make run` only adds the tools, and `make run` after
# `make test` installs nothing.
PYTHON    ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed

.PHONY: run test check bench lint typecheck fmt clean

$(RUN_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "notifier needs Python 3.11 or newer (found: $$($(PYTHON) --version))" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: start the daemon on config/watch.yaml (state in ./state, alerts printed to the console)
run: $(RUN_STAMP)
	$(BIN)/notifier run

## test: lint, type-check, check the architecture contracts and run the whole test suite
test: $(STAMP)
	$(BIN)/ruff check notifier tests bench
	$(BIN)/ruff format --check notifier tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 4 --dist loadgroup

## check: validate config/watch.yaml and print what it watches
check: $(RUN_STAMP)
	$(BIN)/notifier check

## bench: CLI start-up (under a minute), story grouping (quality and speed), deadline discovery (scores, cost per entry), web pages, polling cycles and matching on generated local feeds, the scale-out cluster (1-3 `notifier worker` + a throwaway PostgreSQL vs SQLite; skipped without PostgreSQL), then how the cost grows at 100/1,000/10,000 feeds with its plots (bench/results/)
bench: $(STAMP)
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.stories --sweep
	$(BIN)/python -m bench.deadlines --split test2 --out bench/results
	$(BIN)/python -m bench.deadlines --split test3 --out bench/results --append
	$(BIN)/python -m bench.deadlines --split test4 --out bench/results --append
	$(BIN)/python -m bench.discovery_cost
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench --peer-repeats 1
	$(BIN)/python -m bench.cluster
	$(BIN)/python -m bench.curves

fmt: $(STAMP)
	$(BIN)/ruff format notifier tests bench
	$(BIN)/ruff check --fix notifier tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/.peers
