/** Process exit codes (README "Exit codes"). Stable: scripts and systemd depend on them. */
export const EXIT = {
  /** Everything ran and every sink acknowledged every point. */
  OK: 0,
  /** Something failed at run time (a query, a write, a connectivity check); the rest still ran. */
  FAILURE: 1,
  /** The configuration or the command line is invalid; nothing ran. */
  USAGE: 2,
  /** Stopped by SIGINT / SIGTERM before the run finished (128 + signal number). */
  SIGINT: 130,
  SIGTERM: 143,
} as const;
