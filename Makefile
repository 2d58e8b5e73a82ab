# The two commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || command -v python3.12)
VENV := .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/gonghui
DEMO_MEMBERS ?= 20000
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-sqlite lint typecheck check-migrations install install-test postgres chromium jre clean-demo

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "python3.12 not found (expected through pyenv 3.12.1)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.lock | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime

install-test: $(VENV)/.dev chromium jre

# The demo and the checks below run on the shipped demo keys, which production refuses at
# start-up unless GONGHUI_DEMO=1 (see config/settings.py); pytest sets it in config/settings_test.py.
demo typecheck check-migrations test: export GONGHUI_DEMO := 1

# --- demo: SQLite, synthetic province, web server + task worker -------------------------
demo: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py seed_demo --members $(DEMO_MEMBERS) --if-empty --url http://$(HOST):$(PORT)
	@echo "Starting the task worker and the web server on http://$(HOST):$(PORT)/ (Ctrl-C stops both)"
	@$(PY) manage.py db_worker --queue-name default & WORKER=$$!; \
	  trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

clean-demo:
	rm -rf var/demo.sqlite3* var/cache

# --- test: PostgreSQL, chromium, lint, types, migrations, the whole suite ----------------
# then the SQLite smoke suite (the demo path with a real worker and web server; no PostgreSQL)
postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; echo "PostgreSQL did not start"; exit 1

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }

# PySpark (the screening engine for data that outgrows one machine; local mode in the tests)
# runs on a JVM: Spark 4 needs Java 17 or newer.
jre:
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.dev
	DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/mypy config gonghui

check-migrations: $(VENV)/.dev postgres
	DATABASE_URL=$(PG_TEST_URL) $(PY) manage.py makemigrations --check --dry-run

test: install-test postgres lint typecheck check-migrations
	DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -m "not sqlite_smoke" -n 2 --dist worksteal
	$(MAKE) --no-print-directory test-sqlite

test-sqlite: $(VENV)/.dev
	@SMOKE=$$(mktemp -d); \
	  DATABASE_URL=sqlite:///$$SMOKE/pytest.sqlite3 GONGHUI_VAR_DIR=$$SMOKE $(VENV)/bin/pytest -m sqlite_smoke; \
	  STATUS=$$?; rm -rf $$SMOKE; exit $$STATUS
