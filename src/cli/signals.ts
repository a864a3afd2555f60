import type { Logger } from '../core/logger.js';
import { EXIT } from './exit-codes.js';

/** Routes SIGINT and SIGTERM to `handler`; returns the function that stops doing so. */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Routes SIGHUP (reload) to `handler`; returns the function that stops doing so. */
export function onHangup(handler: () => void): () => void {
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}

/** The exit code of a run stopped by `signal`. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
}

export interface Interruption {
  /** Aborted by the first stop signal. */
  signal: AbortSignal;
  /** The stop signal received, if any. */
  received: () => NodeJS.Signals | undefined;
  /** Stops listening for the signals. */
  off: () => void;
}

/**
 * A one-shot run's stop signals: the first abandons the run (acknowledged data stays written), a
 * second one exits at once.
 */
export function interruptOnStopSignals(logger: Logger): Interruption {
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  const off = onStopSignals((signal) => {
    if (received) process.exit(signalExitCode(signal));
    received = signal;
    logger.warn({ signal }, 'Interrupted: abandoning the run; acknowledged data stays written.');
    abort.abort(new Error(`received ${signal}`));
  });
  return { signal: abort.signal, received: () => received, off };
}
