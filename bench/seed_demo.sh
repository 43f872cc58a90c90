#!/usr/bin/env bash
# Time `manage.py seed_demo --scale N` on a fresh PostgreSQL database.
# Usage: bench/seed_demo.sh [SCALE] [DBNAME]   (defaults: 100000 ltc_seedbench)
# Drops and recreates DBNAME, migrates it, then seeds with a fixed seed and date so runs are comparable.
set -euo pipefail
SCALE="${1:-100000}"
DB="${2:-ltc_seedbench}"
PGURL="postgres://postgres@127.0.0.1:5432"
cd "$(dirname "$0")/.."
psql -h 127.0.0.1 -U postgres -qc "drop database if exists ${DB}"
psql -h 127.0.0.1 -U postgres -qc "create database ${DB}"
export DATABASE_URL="${PGURL}/${DB}"
.venv/bin/python manage.py migrate --skip-checks -v0
echo "seed_demo --scale ${SCALE} on ${DB} ($(nproc) cores, $(date -u +%FT%TZ))"
/usr/bin/time -v .venv/bin/python manage.py seed_demo --scale "${SCALE}" --seed 2026 --today 2026-11-22 2>&1 \
  | grep -Ev "^\s+(Average|Exit|Page|Swaps|File|Socket|Signals|Minor|Major|Voluntary|Involuntary|Percent|System|User|Command)"
psql -h 127.0.0.1 -U postgres -d "${DB}" -Atc "select pg_size_pretty(pg_database_size('${DB}'))" \
  | sed 's/^/database size: /'
