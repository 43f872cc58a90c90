# LTC CRM. The two commands:
#   make run    the demo at http://127.0.0.1:8000 (web server + Celery worker with beat; Ctrl-C stops all)
#   make test   the test suite (pass pytest arguments with ARGS="...")
# With no environment variables the app runs embedded: SQLite and a file-system Celery broker under var/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BOOT_PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
# Re-install only when pyproject.toml changes (or the virtualenv is new).
INSTALLED := $(VENV)/.ltc-installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=
VAR_DIR := $(or $(LTC_VAR_DIR),var)
DEMO_LOGINS := $(VAR_DIR)/demo-logins.txt

.PHONY: help install run test lint migrate seed

help:
	@echo "make run      migrate, seed the demo data if the database is empty, serve http://$(HOST):$(PORT)/"
	@echo "              with a Celery worker and beat; prints the demo log-ins; Ctrl-C stops everything"
	@echo "make test     run the tests (ARGS='-k lockout' etc. is passed to pytest)"
	@echo "make lint     ruff check and format check"
	@echo "make bench    PostgreSQL benchmarks: bulk upsert vs COPY, list latency at 1M (minutes; bench/README.md)"
	@echo "make fuzz     OpenAPI fuzz run (schemathesis, every check, admin and rep-scoped clients; minutes)"
	@echo "make install  create $(VENV) and install the dependencies (with the dev extra)"

$(PY):
	$(BOOT_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The dependencies and the dev extra listed in pyproject.toml. The project itself runs from this
# folder (manage.py), so it is not built or installed into the virtualenv.
$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	    print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements.txt
	touch $@

install: $(INSTALLED)

migrate: $(INSTALLED)
	$(PY) manage.py migrate --noinput

seed: migrate
	mkdir -p $(VAR_DIR)
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py seed_demo --print-logins > $(DEMO_LOGINS)

run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) bin/runall.py --host $(HOST) --port $(PORT) --banner-file $(DEMO_LOGINS)

test: $(INSTALLED)
	$(PY) -m pytest $(ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Benchmarks on PostgreSQL (minutes; not part of `make test`; figures in docs/BENCHMARKS.md, see bench/README.md):
# P1 bulk upsert through the API against raw COPY (own database ltc_bench, re-created each run), then P2/P5
# list latency at BENCH_SCALE opportunities (BENCH_DB is seeded once with seed_demo if it is empty: ≈ 30 min).
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= ltc_bench_1m
BENCH_SCALE ?= 1000000

.PHONY: bench
bench: $(INSTALLED)
	$(PY) bench/bulk_upsert.py --pg $(BENCH_PG)
	$(PY) bench/list_latency.py --pg $(BENCH_PG) --db $(BENCH_DB) --scale $(BENCH_SCALE)

# OpenAPI fuzz run (QUALITY.md R2): schemathesis, every check, as an admin and as a rep-scoped client, against
# gunicorn on a scratch SQLite database seeded with seed_demo (bench/fuzz.sh, about 5 minutes: the CI run).
# The long run takes its knobs from the environment (figures in docs/API.md):
#   FUZZ_MAX_EXAMPLES=100 FUZZ_REP_PHASES=examples,coverage,fuzzing,stateful make fuzz
.PHONY: fuzz
fuzz: $(INSTALLED)
	bash bench/fuzz.sh
