#!/usr/bin/env bash
# The whole test suite, on a fresh Debian/Ubuntu machine with Node >= 20 (README's second command).
# Installs what the tests need (Debian's prometheus, influxdb, victoria-metrics and chromium; npm
# packages), then runs the static checks and every test: unit, fakes, and integration against real servers.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --browser
# `npm install`, not `npm ci`: npm 11 here rejects even a freshly generated lock file ("Missing:
# @rollup/rollup-android-arm-eabi@ from lock file": rollup's optional per-platform packages), while
# `npm install` installs exactly the locked versions and leaves package-lock.json unchanged.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npm run check
npm test
