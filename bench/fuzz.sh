#!/usr/bin/env bash
# OpenAPI fuzz run (QUALITY.md R2): schemathesis with every check against a running server, as an admin
# client and as a rep-scoped client. The bar: 0 server errors and 0 schema violations.
#
# Usage: bench/fuzz.sh [MAX_EXAMPLES]        (make fuzz)
# Env:   FUZZ_MAX_EXAMPLES (3; cases per operation in the examples/fuzzing/stateful phases), FUZZ_SEED (2026),
#        FUZZ_WORKERS (1), FUZZ_SCALE (seed_demo --scale, 200), FUZZ_KEEP=1 keeps the scratch folder,
#        FUZZ_ADMIN_PHASES (all four), FUZZ_REP_PHASES (examples,fuzzing,stateful).
# The defaults are the CI run (about 5 minutes on 2 cores): the coverage phase (≈ 6,000 boundary cases, most
# of the time) runs as the admin client only, since its cases probe input validation, which is the same for
# every caller; the rep-scoped client gets the random and stateful phases, where visibility and scopes show.
# The long run (QUALITY.md R2, ≥ 10,000 cases; figures in docs/API.md):
#   FUZZ_MAX_EXAMPLES=100 FUZZ_REP_PHASES=examples,coverage,fuzzing,stateful bench/fuzz.sh
#
# It builds a scratch SQLite database under a temporary LTC_VAR_DIR (nothing of var/ is touched), seeds it
# with `seed_demo`, creates the two API clients with `create_api_client`, serves the app with gunicorn on a
# free port, runs `schemathesis run <server>/api/schema/ --checks all` once per client, stops the server and
# exits non-zero when either run failed. The number of generated cases of each run and in total is printed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
ST="$ROOT/.venv/bin/schemathesis"
MAX_EXAMPLES="${1:-${FUZZ_MAX_EXAMPLES:-3}}"
SEED="${FUZZ_SEED:-2026}"
# One worker: with two, schemathesis' threads parse lambdas with `ast.parse` at once and CPython 3.11 can
# fail with "SystemError: AST constructor recursion depth mismatch" (a thread-safety bug of the 3.11 AST
# constructor, CPython gh-106905, not of the API) — seen once in a CI-sized run.
WORKERS="${FUZZ_WORKERS:-1}"
SCALE="${FUZZ_SCALE:-200}"
ALL_PHASES="examples,coverage,fuzzing,stateful"
ADMIN_PHASES="${FUZZ_ADMIN_PHASES:-$ALL_PHASES}"
REP_PHASES="${FUZZ_REP_PHASES:-examples,fuzzing,stateful}"

WORK=$(mktemp -d /tmp/ltc-fuzz.XXXXXX)
export LTC_VAR_DIR="$WORK/var"
export DJANGO_DEBUG=1 DJANGO_SETTINGS_MODULE=ltc.settings PYTHONUNBUFFERED=1
# Throttling is tested elsewhere; here a 429 would only hide cases.
export LTC_API_THROTTLE="100000000/min"
# The embedded mode: SQLite under LTC_VAR_DIR and the file-system Celery broker (tasks queue up, unread).
unset DATABASE_URL REDIS_URL
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then
        echo "scratch folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

echo "== scratch database in $WORK (seed_demo --scale $SCALE)"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py seed_demo --scale "$SCALE" --seed "$SEED" >"$WORK/seed.log"

# The rep-scoped client sees one account department (the first by id) and writes what a rep writes.
DEPT=$("$PY" manage.py shell --verbosity 0 -c "
from accounts.models import OrgUnit
print(OrgUnit.objects.filter(kind='ACCOUNT_DEPT').order_by('id').values_list('id', flat=True).first())")
token_of() { sed -n 's/^Token (shown once): //p'; }
ADMIN_TOKEN=$("$PY" manage.py create_api_client "fuzz admin" --scope admin | token_of)
REP_TOKEN=$("$PY" manage.py create_api_client "fuzz rep" --org-unit "$DEPT" --scope "*:read" \
    --scope customers:write --scope contacts:write --scope visits:write --scope leads:write \
    --scope opportunities:write --scope webhooks:write | token_of)
[ -n "$ADMIN_TOKEN" ] && [ -n "$REP_TOKEN" ] || { echo "could not create the API clients" >&2; exit 1; }

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
GUNICORN_EXTRA=()
if "$PY" -c 'import gunicorn, sys; sys.exit(0 if tuple(gunicorn.version_info) >= (27,) else 1)'; then
    GUNICORN_EXTRA+=(--no-control-socket)
fi
"$PY" -m gunicorn ltc.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 2 --timeout 120 \
    "${GUNICORN_EXTRA[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.5
done
echo "== server $BASE (gunicorn pid $SERVER_PID)"

FAILED=0
TOTAL=0
run_as() {  # run_as NAME TOKEN PHASES
    local name=$1 token=$2 phases=$3 log="$WORK/schemathesis-$1.log" status=0
    echo "== schemathesis as the $name client (phases $phases, max examples $MAX_EXAMPLES, seed $SEED, workers $WORKERS)"
    "$ST" --no-color --config-file "$ROOT/bench/schemathesis.toml" run "$BASE/api/schema/" \
        --checks all \
        --phases "$phases" \
        --header "Authorization: Token $token" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --workers "$WORKERS" \
        --request-timeout 60 \
        --wait-for-schema 60 \
        --report junit --report-junit-path "$WORK/junit-$name.xml" \
        2>&1 | tee "$log" || status=$?
    local cases
    cases=$("$PY" - "$WORK/junit-$name.xml" "$log" <<'EOF'
import re
import sys

# "Test cases:" line of the summary: "N generated, M found K unique failures" / "N generated, N passed".
text = open(sys.argv[2], encoding="utf-8", errors="replace").read()
match = re.search(r"Test cases:\s*\n?\s*(\d+) generated", text)
print(match.group(1) if match else 0)
EOF
)
    echo "== $name client: $cases generated test cases, schemathesis exit status $status"
    TOTAL=$((TOTAL + cases))
    if [ "$status" -ne 0 ]; then FAILED=1; fi
}

run_as admin "$ADMIN_TOKEN" "$ADMIN_PHASES"
run_as rep "$REP_TOKEN" "$REP_PHASES"

if grep -q "Traceback" "$WORK/server.log"; then
    echo "== server tracebacks:" >&2
    grep -B2 -A30 "Traceback" "$WORK/server.log" | tail -n 200 >&2
    FAILED=1
fi
echo "== fuzz total: $TOTAL generated test cases (admin + rep-scoped)"
if [ "$FAILED" -ne 0 ]; then
    echo "FUZZ FAILED: see the failures above" >&2
    FUZZ_KEEP=1
    exit 1
fi
echo "== fuzz passed: 0 server errors, 0 schema violations"
