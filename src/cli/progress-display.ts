import type { Logger } from '../core/logger.js';
import { formatDuration } from '../core/time.js';
import type { BackfillProgress, ProgressSnapshot } from '../pipeline/backfill-progress.js';

const BAR_WIDTH = 24;
/** A terminal line is redrawn this often: smooth enough, and cheap. */
const TTY_REDRAW_MS = 250;
const CLEAR_LINE = '\r\x1b[K';

/** `1234567` → `1.23M`: three significant digits, SI suffix. */
export function formatCount(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let value = n;
  let unit = 0;
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${units[unit]}`;
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  return formatDuration(Math.max(0, Math.round(seconds)) * 1000);
}

/**
 * One terminal line:
 * `[#########...............]  37.5%  1.23M samples  412k samples/s  ETA 2m5s  cpu (1/3 queries done)`.
 */
export function formatProgressLine(s: ProgressSnapshot): string {
  const filled = Math.min(BAR_WIDTH, Math.floor(s.fraction * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${(s.fraction * 100).toFixed(1)}%`.padStart(6);
  const query = s.query === undefined ? '' : `  ${s.query}`;
  return (
    `${bar} ${percent}  ${formatCount(s.samples)} samples  ` +
    `${formatCount(s.samplesPerSecond)} samples/s  ETA ${formatEta(s.etaSeconds)}` +
    `${query} (${s.queriesDone}/${s.queries} queries done)`
  );
}

/** The fields of a periodic progress log line (not a TTY: journald, CI, a file). */
export function progressLogFields(s: ProgressSnapshot): Record<string, unknown> {
  return {
    progress: `${(s.fraction * 100).toFixed(1)}%`,
    samples: s.samples,
    samplesPerSecond: Math.round(s.samplesPerSecond),
    eta: formatEta(s.etaSeconds),
    query: s.query,
    queriesDone: s.queriesDone,
    queries: s.queries,
  };
}

export interface ProgressReporterOptions {
  progress: BackfillProgress;
  /** Where the bar is drawn when it is a TTY (stderr). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  logger: Logger;
  /** Log line period when `stream` is not a TTY. */
  logIntervalMs: number;
  now?: () => number;
}

export interface ProgressReporter {
  /** Removes the bar so that another line can be printed (it is redrawn on the next tick). */
  clear(): void;
  stop(): void;
}

/** A redrawn bar on a TTY, else an info log line every `logIntervalMs`. */
export function startProgressReporter(opts: ProgressReporterOptions): ProgressReporter {
  const now = opts.now ?? Date.now;
  const tty = opts.stream.isTTY === true;
  let drawn = false;
  const tick = (): void => {
    const snapshot = opts.progress.snapshot(now());
    if (tty) {
      opts.stream.write(`${CLEAR_LINE}${formatProgressLine(snapshot)}`);
      drawn = true;
    } else {
      opts.logger.info(progressLogFields(snapshot), 'Backfill progress.');
    }
  };
  const timer = setInterval(tick, tty ? TTY_REDRAW_MS : opts.logIntervalMs);
  timer.unref();
  const clear = (): void => {
    if (drawn) opts.stream.write(CLEAR_LINE);
    drawn = false;
  };
  return {
    clear,
    stop: () => {
      clearInterval(timer);
      clear();
    },
  };
}
