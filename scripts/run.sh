#!/usr/bin/env bash
# Start the web server and a Celery worker with beat; Ctrl-C stops both.
set -euo pipefail
PORT="${PORT:-8000}"
PY=.venv/bin/python
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Celery's broker is Redis; when none answers (development only) a folder stands in for it,
# so reminders still go out. The database holds the messages either way.
if ! $PY - <<'PY' 2>/dev/null
import os
import redis
url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
redis.Redis.from_url(url, socket_connect_timeout=2).ping()
PY
then
  export CELERY_BROKER_URL="filesystem://"
  export CELERY_BROKER_FOLDER="${TMPDIR:-/tmp}/clinic-celery-broker-${PORT}"
  mkdir -p "$CELERY_BROKER_FOLDER"
  echo "Redis does not answer: Celery queues through $CELERY_BROKER_FOLDER (development only)."
fi

.venv/bin/celery -A clinic worker --beat --loglevel=INFO --concurrency=2 \
  --schedule="/tmp/clinic-celerybeat-${PORT}" --hostname="clinic-${PORT}@%h" &
pids+=($!)
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
sleep 2
cat <<MSG

  The clinic is running at http://127.0.0.1:${PORT}

  Demo logins (password: demo-pass-2026)
    manager@demo.clinic       clinic manager
    frontdesk@demo.clinic     front desk
    practitioner@demo.clinic  practitioner
    patient@demo.clinic       patient portal

  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
