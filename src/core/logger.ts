import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import { REDACTED, SECRET_LOG_KEYS, type Redactor } from './redact.js';

export type { Logger };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable output when pino-pretty is installed; default: only when stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go (default stderr, keeping stdout for data and summaries); tests pass a stream. */
  destination?: pino.DestinationStream;
  /** Removes the configuration's secrets from every line, whatever field or message holds them. */
  redactor?: Redactor;
}

export function createLogger(opts: LoggerOptions): Logger {
  const { redactor } = opts;
  const base: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'promflux' },
    redact: { paths: SECRET_LOG_KEYS, censor: REDACTED },
    // streamWrite sees each finished line, before any destination or transport.
    ...(redactor && { hooks: { streamWrite: (line) => redactor.redact(line) } }),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.pretty ?? process.stderr.isTTY === true;
  if (pretty && prettyInstalled()) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } },
    });
  }
  // Synchronous: log lines are few (per query, per failure), and none may be lost at exit.
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/**
 * pino-pretty is a devDependency: a checkout has it, an installed tree (`npm ci --omit=dev`, the
 * image, the systemd install) does not, and there the logs stay JSON lines instead of pino failing
 * with "unable to determine transport target". Resolved from here, as pino resolves the target
 * from the module that creates the logger.
 */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** Maps the config's level names (`INFO`, `warning`) to pino's. */
export function normalizeLogLevel(level: string): LogLevel | undefined {
  const l = level.trim().toLowerCase();
  if (l === 'warning') return 'warn';
  if (l === 'critical') return 'fatal';
  if (l === 'off' || l === 'none') return 'silent';
  return (['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const).find(
    (x) => x === l,
  );
}
