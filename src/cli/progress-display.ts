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

/** `12_345_678` → `12.3 MB`: decimal units, as `ls -lh --si` and disk sizes. */
export function formatBytes(bytes: number): string {
  const text = formatCount(bytes);
  const unit = text.at(-1)!;
  return /[kMGT]/.test(unit)
    ? `${text.slice(0, -1)} ${unit === 'k' ? 'kB' : `${unit}B`}`
    : `${text} B`;
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  return formatDuration(Math.max(0, Math.round(seconds)) * 1000);
}

/** What a command's progress shows: backfill the samples it read, export the rows and bytes it wrote. */
export interface ProgressKind {
  /** Message of the periodic log line, e.g. `Backfill progress.` */
  message: string;
  /** Export: the rows and bytes written so far, shown instead of the samples read. */
  written?: () => { rows: number; bytes: number };
}

export const BACKFILL_PROGRESS: ProgressKind = { message: 'Backfill progress.' };

/**
 * One terminal line:
 * `[#########...............]  37.5%  1.23M samples  412k samples/s  ETA 2m5s  cpu (1/3 queries done)`,
 * or for an export `... 37.5%  1.23M rows  18.4 MB  412k rows/s  ETA 2m5s ...`.
 */
export function formatProgressLine(s: ProgressSnapshot, kind = BACKFILL_PROGRESS): string {
  const filled = Math.min(BAR_WIDTH, Math.floor(s.fraction * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${(s.fraction * 100).toFixed(1)}%`.padStart(6);
  const query = s.query === undefined ? '' : `  ${s.query}`;
  const written = kind.written?.();
  const counts = written
    ? `${formatCount(written.rows)} rows  ${formatBytes(written.bytes)}  ` +
      `${formatCount(perSecond(written.rows, s))} rows/s`
    : `${formatCount(s.samples)} samples  ${formatCount(s.samplesPerSecond)} samples/s`;
  return (
    `${bar} ${percent}  ${counts}  ETA ${formatEta(s.etaSeconds)}` +
    `${query} (${s.queriesDone}/${s.queries} queries done)`
  );
}

/** The fields of a periodic progress log line (not a TTY: journald, CI, a file). */
export function progressLogFields(
  s: ProgressSnapshot,
  kind = BACKFILL_PROGRESS,
): Record<string, unknown> {
  const written = kind.written?.();
  return {
    progress: `${(s.fraction * 100).toFixed(1)}%`,
    ...(written
      ? {
          rows: written.rows,
          bytes: written.bytes,
          rowsPerSecond: Math.round(perSecond(written.rows, s)),
        }
      : { samples: s.samples, samplesPerSecond: Math.round(s.samplesPerSecond) }),
    eta: formatEta(s.etaSeconds),
    query: s.query,
    queriesDone: s.queriesDone,
    queries: s.queries,
  };
}

function perSecond(n: number, s: ProgressSnapshot): number {
  return s.elapsedSeconds > 0 ? n / s.elapsedSeconds : 0;
}

export interface ProgressReporterOptions {
  progress: BackfillProgress;
  /** Default: a backfill's. */
  kind?: ProgressKind;
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
  const kind = opts.kind ?? BACKFILL_PROGRESS;
  let drawn = false;
  const tick = (): void => {
    const snapshot = opts.progress.snapshot(now());
    if (tty) {
      opts.stream.write(`${CLEAR_LINE}${formatProgressLine(snapshot, kind)}`);
      drawn = true;
    } else {
      opts.logger.info(progressLogFields(snapshot, kind), kind.message);
    }
  };
  // A terminal shows the bar at once (at 0%), not only after the first redraw period.
  if (tty) tick();
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
