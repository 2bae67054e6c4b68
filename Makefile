# The two commands: `make run` and `make test`. Everything else here is what they need.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
export DJANGO_SETTINGS_MODULE := clinic.settings

.PHONY: run test venv deps node services db lint checks pytest e2e seed clean

venv: .venv/.installed

.venv/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: venv node

services:
	@bash scripts/ensure_services.sh

db: deps services
	DEBUG=$${DEBUG:-1} $(PY) manage.py ensure_database
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

seed: db
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo

run: seed
	DEBUG=$${DEBUG:-1} bash scripts/run.sh

lint: deps
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

# Production-like settings for the deploy check: DEBUG off, a long random key, a real host.
PROD_ENV := DEBUG=0 SECRET_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=clinic.example.org

checks: deps services
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(PROD_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=1 $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# TEST_WORKERS: pytest-xdist processes, each with its own database and live server (default:
# one per core). TEST_CLOCK=2027-11-07T04:40:00Z runs the suite as if the clock started then.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

pytest: deps services
	@bash scripts/ensure_test_tools.sh
	@mkdir -p staticfiles
	@echo "==> pytest with $(TEST_WORKERS) workers, clock: $${TEST_CLOCK:-the real clock ($$(date -u +%Y-%m-%dT%H:%M:%SZ))}"
	DEBUG=1 $(PY) -m pytest -p no:cacheprovider --create-db -n $(TEST_WORKERS)

test: lint checks pytest

clean:
	rm -rf .venv node_modules staticfiles tests/artifacts/*.png
