# `make run` and `make test` are the two commands README.md promises work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run serve test screenshots lint lint-fix bench chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamp files: pip runs again only when a requirements file changed.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

$(VENV)/.installed-bench: requirements.txt requirements-test.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py ensure_var_dir
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	@echo "Open http://127.0.0.1:$(PORT)/  (Ctrl-C stops the web server and the worker)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start -p $(PORT)

# Production-style, on this machine: gunicorn (DEBUG off, whitenoise) + import and bulk workers
# + beat (Procfile). Without SECRET_KEY set, it uses the key `make run` keeps in var/.
serve: $(VENV)/.installed
	$(BIN)/python manage.py ensure_var_dir
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	DEBUG=0 SECRET_KEY="$${SECRET_KEY:-$$(cat $${VAR_DIR:-var}/secret_key)}" $(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Open http://127.0.0.1:$(PORT)/  (Ctrl-C stops gunicorn, the workers and beat)"
	DEBUG=0 SECRET_KEY="$${SECRET_KEY:-$$(cat $${VAR_DIR:-var}/secret_key)}" PATH="$(CURDIR)/$(BIN):$$PATH" \
	  $(BIN)/honcho -f Procfile start -p $(PORT)

# Tests keep their SQLite file and embedded broker apart from `make run`'s, under var/test
# (TEST_VAR_DIR: CI runs the SQLite and the PostgreSQL runs at once, each in its own folder).
TEST_VAR_DIR ?= $(CURDIR)/var/test
test: $(VENV)/.installed-test chromium
	VAR_DIR="$(TEST_VAR_DIR)" $(BIN)/pytest $(PYTEST_ARGS)

# The pictures in README.md and docs/: the browser test that takes them (tests/test_screenshots.py)
# keeps them in docs/screenshots/ instead of a temp folder. Run it after changing a page; commit them.
screenshots: $(VENV)/.installed-test chromium
	SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" VAR_DIR="$(CURDIR)/var/test" $(BIN)/pytest tests/test_screenshots.py

# Lint and types, as CI runs them first (which rules and why: pyproject.toml). ruff on everything,
# then mypy with django-stubs on the app code; both always run, any finding fails. Settings load
# as for the tests.
lint: $(VENV)/.installed-test
	@status=0; \
	echo "--- ruff check"; $(BIN)/ruff check --output-format concise . || status=1; \
	echo "--- mypy"; VAR_DIR="$(CURDIR)/var/test" $(BIN)/mypy || status=1; \
	exit $$status

# ruff's safe fixes only (import order, modern spellings); never reformats. Then run `make lint`.
lint-fix: $(VENV)/.installed-test
	$(BIN)/ruff check --fix --output-format concise . || true

# Every benchmark, one table (README, Benchmarks). Needs PostgreSQL: BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432; builds its 10M-number databases once (a few minutes; the
# registry's 100M numbers as bitmaps, under a minute).
# requirements-bench.txt adds what only the benchmarks use (the upload's peer, django-import-export).
# SCALE=100M: issue 17's scale point instead, on one 100M-number database built once (~1 h, ~40 GB).
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py $(if $(SCALE),--scale $(SCALE))

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "!!! Chromium is missing and apt-get is not usable: browser tests will be SKIPPED (under CI they fail)."; \
	  fi; \
	fi
