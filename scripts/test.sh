#!/usr/bin/env bash
# The whole test suite, on a fresh Debian/Ubuntu machine with Node >= 20 (README's second command).
# Installs what the tests need (Debian's prometheus, influxdb, victoria-metrics, chromium and
# systemd; npm packages from package-lock.json), then runs the static checks and every test: unit,
# fakes, and integration against real servers. Fails if the run changed a tracked file (in a git
# checkout) or package-lock.json: a clone must stay clean.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the run must leave as it found it: tracked files (status and content), else the lock file.
tree_state() {
  if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    git status --porcelain --untracked-files=no
    git diff HEAD --binary | sha256sum
  else
    sha256sum package-lock.json
  fi
}
before=$(tree_state)
check_tree() {
  local rc=$? after
  after=$(tree_state)
  if [ "$after" != "$before" ]; then
    echo "test.sh: the run changed tracked files (before < > after):" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
  fi
  exit "$rc"
}
trap check_tree EXIT

bash scripts/install-deps.sh --test
# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means
# the lock file changed since. `npm ci` installs exactly the lock file and never rewrites it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run check
npm test
