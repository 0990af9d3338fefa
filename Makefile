# SKAM — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The demo's webhook receiver listens beside the web server, on a port of its own run's:
# 8765 for PORT=8000, 8766 for PORT=8001, so that two `make run` share one machine.
WEBHOOK_PORT ?= $(shell echo $$(( $(PORT) + 765 )))
# The test suite runs against the real PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/skam
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Tests run in parallel (pytest-xdist), each worker with its own test database and cache keys
# (tests/conftest.py). Two workers are the fastest on two cores. Tests are handed out in order
# (--dist load), so each worker, like a single process, runs the transactional tests, which
# empty its database, after the others.
TEST_WORKERS ?= 2

.PHONY: run run-debug test faults contract venv dev-venv chromium lint format messages migrations clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(BIN)/.dev-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

venv: $(BIN)/.installed
dev-venv: $(BIN)/.dev-installed

## Run SKAM on its embedded default: SQLite, a filesystem broker, a real worker and beat, with
## DEBUG off as users see it (the product's 404 and 403 pages; a secret key kept in var/).
run: RUN_MODE := DEBUG=0 SKAM_LOCAL=1 SKAM_DEMO_WEBHOOK_PORT=$(WEBHOOK_PORT)
## The same with DEBUG on, for development: Django's error pages, templates reloaded.
run-debug: RUN_MODE := DEBUG=1 SKAM_DEMO_WEBHOOK_PORT=$(WEBHOOK_PORT)
run run-debug: venv
	$(RUN_MODE) $(BIN)/python manage.py migrate --noinput
	$(RUN_MODE) $(BIN)/python manage.py demo_load --if-empty
	$(RUN_MODE) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --no-prefix start -f Procfile.dev -p $(PORT)

## Run everything CI runs: lint, format, migrations check, unit, integration and browser tests.
test: dev-venv chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist load $(PYTEST_ARGS)

## The fault suite alone (also part of `make test`): each scenario starts its own Redis, SMTP
## server or Celery worker on 127.0.0.1, breaks it, and prints its figures.
faults: dev-venv
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest -p no:xdist -m faults -s -q tests/faults $(PYTEST_ARGS)

## The API's contract in depth (the suite tries it lightly): schemathesis sends every operation
## CONTRACT_EXAMPLES schema-valid and as many schema-violating requests as each role and signed
## out, and prints each role's figures: operations, examples, failures of each kind, seconds.
CONTRACT_EXAMPLES ?= 100
contract: dev-venv
	set -o pipefail; DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		SKAM_CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) SKAM_CONTRACT_ROLES=all \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist load -p no:logging -q -rA \
		tests/test_api_contract.py $(PYTEST_ARGS) \
		| grep -E '^contract |^E  |^FAILED| passed| failed'

## Debian's Chromium, which the browser tests drive (never a browser downloaded by Playwright):
## installed when missing if we may (root, with apt-get); SKAM_CHROMIUM may point at another.
chromium:
	@if [ -n "$$SKAM_CHROMIUM" ]; then \
		test -x "$$SKAM_CHROMIUM" || { echo "SKAM_CHROMIUM=$$SKAM_CHROMIUM is not an executable Chromium." >&2; exit 1; }; \
	elif [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's Chromium for the browser tests."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "The browser tests need Chromium: run 'sudo apt-get install chromium', or set SKAM_CHROMIUM to a Chromium's path." >&2; \
			exit 1; \
		fi; \
	fi

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: dev-venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the Russian catalogue after changing strings, then translate locale/ru/.../django.po.
messages: venv
	$(BIN)/python manage.py makemessages -l ru --no-obsolete --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l ru --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles
