#!/usr/bin/env bash
# promflux quick start: installs Prometheus, InfluxDB 1.x and VictoriaMetrics if missing, installs
# npm dependencies if needed, builds, then runs a demo app → Prometheus → promflux --once → InfluxDB
# round trip on loopback and prints what landed. Everything it starts is stopped at the end.
# Usage: bash scripts/quickstart.sh   (needs Node >= 20; root or sudo for the Debian packages)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "quickstart: $*"; }

if ! command -v node >/dev/null 2>&1; then
  say "Node.js >= 20 is required but node is not on PATH" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi

bash scripts/install-deps.sh

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means
# the lock file changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci: exactly package-lock.json's versions, and the lock file is never rewritten.
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
else
  say "npm dependencies up to date"
fi

say "building (npm run build)"
npm run build

exec npx tsx scripts/quickstart.ts
