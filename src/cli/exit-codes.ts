/** Process exit codes (README "Exit codes"). Stable: scripts and systemd depend on them. */
export const EXIT = {
  /** Everything ran and every sink acknowledged every point. */
  OK: 0,
  /** Something failed at run time (a query, a write, a connectivity check); the rest still ran. */
  FAILURE: 1,
  /** The configuration or the command line is invalid; nothing ran. */
  USAGE: 2,
  /**
   * Everything ran, but a sink refused some points as malformed: they are in the dead-letter file,
   * not in the sink. (A failure, exit 1, takes precedence.)
   */
  REJECTED: 3,
  /**
   * `provision`: it ran, but a tier needs an operator: the credential may not check or create it,
   * the server failed, or its retention differs from the configured one (without
   * `--apply-retention`).
   */
  ATTENTION: 4,
  /**
   * `verify`: it compared every tier it could, and InfluxDB does not hold what Prometheus returns
   * in some window (missing, extra or different values). (A failure, exit 1, takes precedence.)
   */
  DIFFERS: 5,
  /** Stopped by SIGINT / SIGTERM before the run finished (128 + signal number). */
  SIGINT: 130,
  SIGTERM: 143,
} as const;
