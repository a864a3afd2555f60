/**
 * A small error hierarchy with stable codes. Components throw these; the runner logs once and maps
 * them to exit codes. Messages never contain secrets: build them from names, URLs without
 * credentials and server messages, never from headers or config values marked secret.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'QUERY_BAD_DATA'
  | 'QUERY_EXECUTION'
  | 'QUERY_FAILED'
  | 'RESPONSE_MALFORMED'
  | 'SINK_AUTH'
  | 'SINK_NOT_FOUND'
  | 'SINK_CARDINALITY_LIMIT'
  | 'SINK_WRITE_FAILED'
  | 'DEADLINE_EXCEEDED'
  | 'ABORTED'
  | 'STATE_CORRUPT'
  | 'STATE_WRITE_FAILED';

export class PromfluxError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem in the configuration, located by its key path (`load.influxdb.url`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends PromfluxError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source ? ` in ${source}` : '';
    const lines = issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`);
    super('CONFIG_INVALID', `Invalid configuration${where}:\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

export class UsageError extends PromfluxError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Prometheus answered with an error that a retry will not fix (bad_data: a wrong query or range). */
export class QueryError extends PromfluxError {
  readonly errorType: string;
  readonly query: string;
  constructor(
    code: ErrorCode,
    query: string,
    errorType: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `Query "${query}" failed (${errorType}): ${message}`, options);
    this.query = query;
    this.errorType = errorType;
  }
}

export class SinkError extends PromfluxError {
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof PromfluxError
    ? err.code === 'ABORTED'
    : err instanceof Error && (err.name === 'AbortError' || err.name === 'CanceledError');
}

/** Error text safe to log or print: the message chain, never request objects or headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return err.message.includes(cause.slice(2)) || !cause ? err.message : `${err.message}${cause}`;
  }
  return String(err);
}
