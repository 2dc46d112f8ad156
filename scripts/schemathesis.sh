#!/usr/bin/env bash
# Fuzz the partner API against its own OpenAPI schema: every response must be free of server errors
# and conform to the schema. Exits non-zero on any failure.
#
#   scripts/schemathesis.sh                 # a throwaway SQLite database
#   DATABASE_URL=postgres://... scripts/schemathesis.sh   # an existing (empty or seeded) database
#
# It migrates the database, imports data/psp_2017.csv, serves the app with gunicorn on a free local
# port (debug off, plain HTTP, a throttle high enough not to interfere), runs schemathesis with a
# bounded number of examples per operation (SCHEMATHESIS_EXAMPLES, default 100; SCHEMATHESIS_SEED
# repeats a run), then stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
workdir="$(mktemp -d)"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

export DATABASE_URL="${DATABASE_URL:-sqlite:///$workdir/schemathesis.sqlite3}"
export DJANGO_DEBUG=0 DJANGO_SECURE=0 DJANGO_STATIC_MANIFEST=0
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-schemathesis-run-only-$(date +%s%N)}"
export API_ANON_RATE="1000000/hour" API_USER_RATE="1000000/hour"
export DJANGO_LOG_LEVEL="${DJANGO_LOG_LEVEL:-WARNING}"

# SCHEMATHESIS_PORT pins the port (e.g. one reserved for you on a shared machine); else a free one.
port="${SCHEMATHESIS_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
base="http://127.0.0.1:$port"
# A Host header with a port passes only when that host:port is listed (psp_tracker/guards.py).
export DJANGO_ALLOWED_HOSTS="127.0.0.1:$port"

echo "== schemathesis: database ${DATABASE_URL%%://*}, server $base"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py import_jurisdictions data/psp_2017.csv
# A staff user (Reviewer: every write the API offers) and its token, so that the writes are fuzzed
# too, as a partner's staff tooling would.
token="$("$PY" manage.py shell -v0 -c '
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="schemathesis", defaults={"is_staff": True})
user.groups.add(Group.objects.get(name="Reviewer"))
print(Token.objects.get_or_create(user=user)[0].key)
')"

# --limit-request-line 0: the fuzzer sends query strings longer than gunicorn's 4094-byte request
# line, whose refusal is gunicorn's own HTML 414 page, outside the app; here the app judges them.
.venv/bin/gunicorn psp_tracker.wsgi --bind "127.0.0.1:$port" --workers 2 --access-logfile - \
  --limit-request-line 0 \
  >"$workdir/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 60); do
  if "$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "$base/api/v1/schema/" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "The server stopped before answering:" >&2
    cat "$workdir/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

# Run from the throwaway folder, where schemathesis and hypothesis keep their own files.
status=0
schemathesis="$PWD/.venv/bin/schemathesis"
scripts="$PWD/scripts"
(
  cd "$workdir"
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$scripts${PYTHONPATH:+:$PYTHONPATH}" \
    "$schemathesis" --no-color --config-file "$scripts/schemathesis.toml" run "$base/api/v1/schema/" \
    --checks all \
    --header "Authorization: Token $token" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" \
    ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
    --request-timeout 30
) 2>&1 | tee "$workdir/report.txt" || status=$?

# SCHEMATHESIS_MIN_CASES: fail a run that tried fewer cases than asked for (CI: 5,000), so that a
# schema change which starves the generator cannot pass unnoticed.
cases="$(grep -Eo '[0-9]+ generated' "$workdir/report.txt" | tail -1 | grep -Eo '[0-9]+' || echo 0)"
echo "== schemathesis: $cases cases"
if [ "$status" -eq 0 ] && [ "$cases" -lt "${SCHEMATHESIS_MIN_CASES:-0}" ]; then
  echo "== schemathesis ran $cases cases, fewer than SCHEMATHESIS_MIN_CASES=${SCHEMATHESIS_MIN_CASES}" >&2
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "== schemathesis failed ($status); the server's log ends with:" >&2
  tail -n 50 "$workdir/server.log" >&2
fi
exit "$status"
