/** The `pipeline` section: scheduling, lookback and catch-up, state, logging, sharding. */
import { z } from 'zod';
import { validateDetailed as validateCron } from 'node-cron';
import { isRecord } from '../../plain-object.js';
import { duration, integer, leaf, logLevel, MAX_TIMER_MS, nonEmptyText } from '../leaf.js';

export const pipeline = z
  .strictObject({
    // `run` waits for the next cycle in one timer.
    interval_seconds: integer(1, Math.floor(MAX_TIMER_MS / 1000)).prefault(300),
    delay: duration().prefault('60s'),
    log_level: logLevel().prefault('INFO'),
    state_dir: nonEmptyText('a directory path').prefault('./promflux-state'),
    initial_lookback: duration({ positive: true }).optional(),
    max_catchup: duration({ positive: true }).prefault('24h'),
    shutdown_grace: duration({ timer: true }).prefault('30s'),
    schedule: leaf<string>(
      'a cron expression (5 fields, or 6 with seconds first), e.g. "*/5 * * * *"',
      (input) => {
        if (typeof input !== 'string') return { error: 'must be a cron expression string' };
        const check = validateCron(input);
        if (!check.valid) {
          const why = check.errors.map((e) => e.message).join('; ');
          return { error: `must be a valid cron expression: ${why || 'unrecognised'}` };
        }
        return { value: input.trim() };
      },
    ).optional(),
    start_jitter: duration({ timer: true }).prefault('0s'),
    // Windows are held back this long for late data (remote-write, Thanos receive).
    lateness: duration().prefault('0s'),
    // The last N emitted windows are recomputed each cycle (idempotent writes).
    rewrite_windows: integer(0, 10_000).prefault(0),
    shard: leaf<{ index: number; count: number }>(
      '"index/count" or {index, count} with 0 <= index < count, e.g. "0/4" (also settable as $PROMFLUX_SHARD)',
      (input) => {
        const parts = shardParts(input);
        const index = Number(parts?.[0]);
        const count = Number(parts?.[1]);
        if (
          !parts ||
          !Number.isSafeInteger(index) ||
          !(count >= 1) ||
          !(index >= 0 && index < count)
        ) {
          return {
            error:
              'must be "index/count" or {index, count} with 0 <= index < count, e.g. "0/4" (from pipeline.shard or $PROMFLUX_SHARD)',
          };
        }
        return { value: { index, count } };
      },
    ).optional(),
  })
  .prefault({});

/** `"2/4"` or `{index: 2, count: 4}` → the two numbers as given (strings or numbers), else undefined. */
function shardParts(input: unknown): [unknown, unknown] | undefined {
  if (typeof input === 'string') {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(input);
    return match ? [match[1], match[2]] : undefined;
  }
  if (!isRecord(input)) return undefined;
  const { index, count, ...rest } = input;
  if (Object.keys(rest).length > 0 || typeof index !== 'number' || typeof count !== 'number') {
    return undefined;
  }
  return [index, count];
}
