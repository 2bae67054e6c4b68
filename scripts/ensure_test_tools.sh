#!/usr/bin/env bash
# What the test suite needs from the machine, from Debian's packages: Chromium for the browser
# journeys (never a downloaded browser build) and libfaketime, which gives the processes a test
# starts (a Celery worker) the suite's clock when TEST_CLOCK moves it.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || missing+=(libfaketime)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> Installing Debian's ${missing[*]} for the tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing for the tests: ${missing[*]}. Install them (sudo apt-get install ${missing[*]})" \
    "or set CHROMIUM_PATH for a Chromium elsewhere." >&2
  exit 1
fi
