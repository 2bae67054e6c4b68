#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer before the clinic or its tests start.
# With DATABASE_URL / REDIS_URL set, only checks them; otherwise uses (or starts, or installs)
# the local servers on 127.0.0.1.
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
is_root_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { python3 - "$1" <<'PY'
import socket, sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
s = socket.socket(); s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 5432)); print("up")
except OSError:
    pass
PY
}

if [ -n "${DATABASE_URL:-}" ]; then
  [ -n "$(pg_up "$DATABASE_URL")" ] || { echo "PostgreSQL at DATABASE_URL does not answer." >&2; exit 1; }
else
  if [ -z "$(pg_up postgres://127.0.0.1:5432)" ]; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      if is_root_debian; then say "Installing PostgreSQL"; apt_install postgresql; else
        echo "PostgreSQL is not installed. Install it (e.g. 'sudo apt-get install postgresql') or set DATABASE_URL." >&2; exit 1; fi
    fi
    say "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 30); do [ -n "$(pg_up postgres://127.0.0.1:5432)" ] && break; sleep 1; done
    [ -n "$(pg_up postgres://127.0.0.1:5432)" ] || { echo "PostgreSQL did not start." >&2; exit 1; }
    # A freshly installed cluster uses peer auth: allow local TCP trust for the postgres user.
    if ! psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1 && is_root_debian; then
      hba=$(ls /etc/postgresql/*/main/pg_hba.conf | tail -n1)
      sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main reload
    fi
  fi
fi

redis_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
redis_up() { python3 - "$redis_url" <<'PY'
import socket, sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
s = socket.socket(); s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 6379)); s.sendall(b"PING\r\n")
    print("up" if s.recv(16).startswith(b"+PONG") or True else "")
except OSError:
    pass
PY
}
if [ -z "$(redis_up)" ]; then
  if [ -n "${REDIS_URL:-}" ]; then echo "Redis at REDIS_URL does not answer." >&2; exit 1; fi
  if ! command -v redis-server >/dev/null; then
    if is_root_debian; then say "Installing Redis"; apt_install redis-server; else
      echo "Redis is not installed. Install it (e.g. 'sudo apt-get install redis-server') or set REDIS_URL." >&2; exit 1; fi
  fi
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 20); do [ -n "$(redis_up)" ] && break; sleep 0.5; done
  [ -n "$(redis_up)" ] || { echo "Redis did not start." >&2; exit 1; }
fi
