/** Why a unit file test fails on a machine without systemd-analyze, and how to fix it. */
export const SYSTEMD_ANALYZE_MISSING =
  'systemd-analyze (Debian package systemd) must be installed: bash scripts/install-deps.sh --test';
