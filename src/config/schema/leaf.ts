/**
 * Leaf values of the config schema. Each leaf parses `unknown` itself so that every message says
 * what is expected.
 */
import { z } from 'zod';
import { normalizeLogLevel, type LogLevel } from '../../core/logger.js';
import { formatDuration, MAX_TIMER_MS, parseDurationMs } from '../../core/time.js';

export { MAX_TIMER_MS };

export type Parsed<T> = { value: T } | { error: string };

/**
 * A value parsed by `parse`; absence is reported as required unless the caller adds a default or
 * `.optional()`. Typing note: the leading `.optional()` makes the key optional in the *input* type
 * (so sections can default to `{}`) and the trailing `z.custom` keeps it required in the output.
 * Call sites name T: inferred from the returned object literals, it would pick up `undefined`.
 */
export function leaf<T>(expected: string, parse: (input: unknown) => Parsed<T>) {
  return z
    .unknown()
    .optional()
    .transform((input, ctx): T => {
      const result = input === undefined ? { error: `is required (${expected})` } : parse(input);
      if ('error' in result) {
        ctx.issues.push({ code: 'custom', message: result.error, input });
        return z.NEVER;
      }
      return result.value;
    })
    .pipe(z.custom<Awaited<T>>());
}

function mustBe(expected: string, input: unknown): { error: string } {
  const hint =
    typeof input === 'number' || typeof input === 'boolean' ? ' (put the value in quotes)' : '';
  return { error: `must be ${expected}${hint}` };
}

export function text(expected = 'a string') {
  return leaf<string>(expected, (input) =>
    typeof input === 'string' ? { value: input } : mustBe(expected, input),
  );
}

export function nonEmptyText(expected: string) {
  return leaf<string>(expected, (input) => {
    if (typeof input !== 'string') return mustBe(expected, input);
    if (input.trim() === '') return { error: `must not be empty (${expected})` };
    return { value: input };
  });
}

export function integer(min: number, max?: number) {
  const expected = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return leaf<number>(expected, (input) => {
    // Digits in a string are accepted so that `${VAR:-2}` works where a number is expected.
    const n =
      typeof input === 'number'
        ? input
        : typeof input === 'string' && /^\s*-?\d+\s*$/.test(input)
          ? Number(input)
          : NaN;
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
      return { error: `must be ${expected}` };
    }
    return { value: n };
  });
}

export function boolean() {
  return leaf<boolean>('true or false', (input) => {
    if (typeof input === 'boolean') return { value: input };
    if (input === 'true' || input === 'false') return { value: input === 'true' };
    return { error: 'must be true or false' };
  });
}

const DURATION_EXAMPLES = 'such as 500ms, 15s, 5m or 1m30s, or a number of seconds';

const TIMER_LIMIT = `${formatDuration(MAX_TIMER_MS)} (${MAX_TIMER_MS} ms, the longest wait a Node.js timer supports)`;

export function duration(opts: { positive?: boolean; wholeMs?: boolean; timer?: boolean } = {}) {
  const expected = `${opts.positive ? 'a positive' : 'a'} duration ${DURATION_EXAMPLES}`;
  return leaf<number>(expected, (input) => {
    if (typeof input !== 'string' && typeof input !== 'number')
      return { error: `must be ${expected}` };
    const ms = parseDurationMs(input);
    if (ms === undefined) return { error: `must be ${expected}` };
    if (opts.positive && ms <= 0) return { error: 'must be greater than zero' };
    if (opts.timer && ms > MAX_TIMER_MS) return { error: `must be at most ${TIMER_LIMIT}` };
    if (opts.wholeMs && (typeof input === 'number' || /^\s*[\d.]+\s*$/.test(input))) {
      const exact = Number(input) * 1000;
      if (Math.abs(exact - Math.round(exact)) > 1e-6) {
        return { error: 'must be a whole number of milliseconds' };
      }
    }
    return { value: ms };
  });
}

export function httpUrl(example: string) {
  const expected = `an http(s) URL, e.g. ${example}`;
  return leaf<string>(expected, (input) => {
    if (typeof input !== 'string') return { error: 'must be an http(s) URL' };
    let url: URL;
    try {
      url = new URL(input.trim());
    } catch {
      return { error: `must be an http(s) URL, e.g. ${example}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { error: 'must be an http(s) URL (scheme http:// or https://)' };
    }
    if (url.search || url.hash) {
      return { error: 'must be an http(s) URL without a query string or fragment' };
    }
    return { value: input.trim() };
  });
}

export function oneOf<const T extends string>(values: readonly T[]) {
  const expected = `one of ${values.join(', ')}`;
  return leaf<T>(expected, (input) =>
    values.includes(input as T) ? { value: input as T } : { error: `must be ${expected}` },
  );
}

const LOG_LEVELS = 'trace, debug, info, warn, warning, error, fatal, silent';

export function logLevel() {
  return leaf<LogLevel>(`one of ${LOG_LEVELS}`, (input) => {
    const level = typeof input === 'string' ? normalizeLogLevel(input) : undefined;
    return level ? { value: level } : { error: `must be one of ${LOG_LEVELS} (any case)` };
  });
}

/** `up`, or `/regex/`: the regex must compile. */
export function metricMatcher() {
  return leaf<string>('a metric name or /regex/', (input) => {
    if (typeof input !== 'string') return mustBe('a metric name or /regex/', input);
    if (input.trim() === '') return { error: 'must not be empty (a metric name or /regex/)' };
    if (input.length >= 2 && input.startsWith('/') && input.endsWith('/')) {
      try {
        // Compiled the way the transform stage compiles it: anchored, no flags.
        new RegExp(`^(?:${input.slice(1, -1)})$`);
      } catch (err) {
        const reason = err instanceof Error ? err.message.split(': ').pop() : String(err);
        return { error: `is not a valid regular expression (${reason})` };
      }
    }
    return { value: input };
  });
}
