import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION = /^(?:(\d+)(ms|s|m|h|d|w|y))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/**
 * Parses a Prometheus-style duration (`15s`, `1m30s`, `24h`, `500ms`) or a plain number of seconds.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDurationMs(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : undefined;
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * (UNIT_MS[unit!] ?? 0);
  }
  return total;
}

/** Formats milliseconds as the shortest Prometheus duration (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/**
 * Parses a point in time for the CLI: RFC 3339 (`2024-05-01T00:00:00Z`), unix seconds
 * (`1714521600`, fractions allowed), `now`, or `now-<duration>` / `now+<duration>`.
 */
export function parseTimeMs(input: string, nowMs: number): number {
  const text = input.trim();
  const relative = /^now(?:([+-])(.+))?$/.exec(text);
  if (relative) {
    if (!relative[1]) return nowMs;
    const offset = parseDurationMs(relative[2]!);
    if (offset === undefined)
      throw new UsageError(
        `Invalid time "${input}": "${relative[2]}" is not a duration (e.g. now-24h).`,
      );
    return relative[1] === '-' ? nowMs - offset : nowMs + offset;
  }
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(
    `Invalid time "${input}": expected RFC 3339 (2024-05-01T00:00:00Z), unix seconds, or now-<duration>.`,
  );
}

export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** `--from`/`--to` of a half-open range `[from, to)`; a usage error unless from < to. */
export function parseHalfOpenRange(
  from: string,
  to: string,
  nowMs: number,
): { fromMs: number; toMs: number } {
  const fromMs = parseTimeMs(from, nowMs);
  const toMs = parseTimeMs(to, nowMs);
  if (!(fromMs < toMs)) {
    throw new UsageError(
      `--to (${toRfc3339(toMs)}) must be after --from (${toRfc3339(fromMs)}): the range is [from, to).`,
    );
  }
  return { fromMs, toMs };
}

/**
 * The longest wait a Node.js timer supports (2^31 - 1 ms, about 24.8 days): a longer one fires
 * after 1 ms, so a `timeout: 25d` would fail every request at once. Durations that end up in a
 * timer (timeouts, retry delays, shutdown_grace, start_jitter) are bounded by it; durations that
 * only measure a range of time (delay, step, initial_lookback, max_catchup, max_future_skew) are not.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
