#!/usr/bin/env bash
# Installs the real servers used by integration tests, the quick start and the benchmark:
# Debian packages prometheus (+ promtool), influxdb (1.x influxd) and victoria-metrics; with
# --browser also chromium, the headless browser the status page test drives through playwright-core;
# with --test everything the test suite needs: chromium and systemd (systemd-analyze verifies the
# unit files) and python3-pandas (the export test reads CSV datasets with README's pandas snippet).
# The quick start and the benchmark need none of these.
# Idempotent: does nothing when all binaries are present. Our harness starts its own instances on
# loopback with free ports, so any packaged service the install started is stopped again.
set -euo pipefail

BINARIES=(/usr/bin/prometheus /usr/bin/promtool /usr/bin/influxd /usr/bin/victoria-metrics)
PACKAGES=(prometheus influxdb victoria-metrics)
# Python modules the system interpreter must import (Debian packages them for /usr/bin/python3).
PYTHON_MODULES=()
case "${1:-}" in
  --browser) BINARIES+=(/usr/bin/chromium); PACKAGES+=(chromium) ;;
  --test)
    BINARIES+=(/usr/bin/chromium /usr/bin/systemd-analyze); PACKAGES+=(chromium systemd python3-pandas)
    PYTHON_MODULES+=(pandas) ;;
  "") ;;
  *) echo "usage: $0 [--browser | --test]" >&2; exit 2 ;;
esac
# service name : user the packaged service runs as : binary
SERVICES=("prometheus:prometheus:prometheus" "influxdb:influxdb:influxd" "victoria-metrics:_victoria-metrics:victoria-metrics")

say() { echo "install-deps: $*"; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    say "not root and sudo is not available; run this script as root" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

missing=()
for bin in "${BINARIES[@]}"; do
  [ -x "$bin" ] || missing+=("$bin")
done
python_has() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
for module in "${PYTHON_MODULES[@]}"; do
  python_has "$module" || missing+=("python module $module")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "all binaries present (${BINARIES[*]})${PYTHON_MODULES[*]:+ and python modules ${PYTHON_MODULES[*]}}"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]} and apt-get is not available; install ${PACKAGES[*]} by hand" >&2
    exit 1
  fi
  say "missing ${missing[*]}"
  # Keep postinst scripts from starting the packaged services (Debian's policy-rc.d convention),
  # unless the machine already has a policy in place.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    say "creating temporary $policy so the packages do not start their services"
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    trap 'say "removing temporary $policy"; "${SUDO[@]}" rm -f "$policy"' EXIT
  fi
  say "running apt-get update"
  "${SUDO[@]}" apt-get update
  say "installing ${PACKAGES[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  for bin in "${BINARIES[@]}"; do
    if [ ! -x "$bin" ]; then
      say "still missing $bin after the install" >&2
      exit 1
    fi
  done
  for module in "${PYTHON_MODULES[@]}"; do
    if ! python_has "$module"; then
      say "/usr/bin/python3 still cannot import $module after the install" >&2
      exit 1
    fi
  done
  say "installed: $(/usr/bin/prometheus --version 2>&1 | head -n1); $(/usr/bin/influxd version 2>&1 | head -n1)"
  if [ -x /usr/bin/chromium ]; then
    # stderr dropped: Debian's wrapper (/etc/chromium.d/dev-shm) can print shell errors there.
    say "installed: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
  fi
fi

# Pids of a packaged service: processes of that binary run by the package's service user (our
# harness runs its servers as the invoking user, never as these). uid and the full command are
# used because ps truncates user names (8 chars) and process names (15 chars).
service_pids() {
  local user=$1 binary=$2 uid
  uid=$(id -u "$user" 2>/dev/null) || return 0
  ps -eo pid=,uid=,args= 2>/dev/null | awk -v u="$uid" -v b="$binary" '$2 == u && ($3 == b || $3 == "/usr/bin/" b) { print $1 }'
}

for entry in "${SERVICES[@]}"; do
  IFS=: read -r service user binary <<<"$entry"
  pids=$(service_pids "$user" "$binary")
  if [ -z "$pids" ]; then
    say "packaged service $service is not running"
    continue
  fi
  say "stopping packaged service $service (pids $(echo $pids))"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl stop "$service" || true
  elif [ -x "/etc/init.d/$service" ]; then
    "${SUDO[@]}" "/etc/init.d/$service" stop >/dev/null 2>&1 || true
  fi
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -z "$(service_pids "$user" "$binary")" ] && break
    sleep 1
  done
  pids=$(service_pids "$user" "$binary")
  if [ -n "$pids" ]; then
    say "service $service still running; sending SIGTERM to pids $(echo $pids)"
    # shellcheck disable=SC2086
    "${SUDO[@]}" kill $pids || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [ -z "$(service_pids "$user" "$binary")" ] && break
      sleep 1
    done
  fi
  if [ -n "$(service_pids "$user" "$binary")" ]; then
    say "packaged service $service did not stop; stop it by hand before running tests" >&2
    exit 1
  fi
  say "packaged service $service stopped"
done
