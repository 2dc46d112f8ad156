#!/bin/sh
# The web container's start command (docker-compose.yml runs `sh docker/entrypoint.sh`), and the same
# command that tests/test_deploy.py and scripts/reliability.py run against a local PostgreSQL:
# apply migrations and load the reference geography, collect static files (hashed and compressed for WhiteNoise), then serve with gunicorn.
set -eu

# With several web containers, let one of them (or a one-off `docker compose run`) migrate.
if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
  python manage.py migrate --no-input
  # Reference states, counties and places (docs/geography.md); a no-op when up to date.
  python manage.py load_geography
fi
python manage.py collectstatic --no-input --verbosity 0

# gthread workers: each worker process serves GUNICORN_THREADS requests at once, each thread keeping
# its own persistent database connection (DB_CONN_MAX_AGE, checked before reuse).
exec gunicorn psp_tracker.wsgi:application \
  --bind "${GUNICORN_BIND:-0.0.0.0:${PORT:-8000}}" \
  --workers "${WEB_CONCURRENCY:-3}" \
  --worker-class gthread \
  --threads "${GUNICORN_THREADS:-4}" \
  --timeout "${GUNICORN_TIMEOUT:-30}" \
  --graceful-timeout 20 \
  --max-requests 5000 \
  --max-requests-jitter 500 \
  --worker-tmp-dir "${GUNICORN_TMP_DIR:-/tmp}" \
  --error-logfile -
