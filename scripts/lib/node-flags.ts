/**
 * The Node.js flags promflux runs with in production: the systemd unit's ExecStart
 * (systemd/promflux.service), the container's ENTRYPOINT (Dockerfile), the quick start, and the
 * bench, which measures promflux as those deployments run it. The unit and the Dockerfile cannot
 * import this list; tests/unit/deploy/node-flags.test.ts fails if either drifts from it.
 *
 * `--max-semi-space-size=4`: V8's young generation at most 2 × 4 MB instead of Node's 2 × 16 MB.
 * promflux keeps little alive (a chunk's columns, the writes in flight) and already asks for a
 * young collection every 4 MB of response bodies, so the larger semi-spaces only hold garbage.
 * Measured side by side on 1M and 10M-sample backfills (README, Performance): peaks 6–10 MB lower,
 * the same CPU and throughput within the noise; 2 MB semi-spaces cost CPU, 8 MB change little.
 * It must be a command-line flag (or NODE_OPTIONS): V8 sizes the new space before any JavaScript
 * runs, so `v8.setFlagsFromString` at start-up has no effect on it.
 */
export const PROMFLUX_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The semi-space cap in MiB that {@link PROMFLUX_NODE_FLAGS} sets. */
export function semiSpaceMiB(flags: readonly string[] = PROMFLUX_NODE_FLAGS): number | undefined {
  for (const flag of flags) {
    const m = /^--max-semi-space-size=(\d+)$/.exec(flag);
    if (m) return Number(m[1]);
  }
  return undefined;
}
