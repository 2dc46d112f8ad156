# The README's two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup seed lint format migrations-check check clean messages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# Local development server on SQLite (or DATABASE_URL), seeded, with a staff login, and the task worker.
run: setup
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py import_sources data/psp_2017_sources.csv
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py import_jurisdictions data/psp_2017.csv
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py load_geography
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py ensure_local_admin
	@# The task worker (webhooks, e-mail alerts) runs beside the server and stops with it.
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py run_worker --no-reload --sweep 10 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite, on SQLite by default; DATABASE_URL=postgres://... runs it on PostgreSQL.
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: setup
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

check: lint migrations-check

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache

# The Spanish catalogue (README, "Languages"): collect the messages, then compile the .mo that is
# committed beside the .po. Needs Debian's gettext (xgettext, msgfmt).
messages: setup
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l es --no-location -i ".venv/*" -i "staticfiles/*" -i "tests/*" -i "locale/*"
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages -l es
