import { dirname } from 'node:path';

import { ensurePrivateDir, openPrivateFile } from '../core/private-file.js';
import { Redactor } from '../core/redact.js';

/** Lines one write refused as malformed, with the server's reason. */
export interface DeadLetterGroup {
  sink: string;
  query: string;
  /** Line-protocol lines without their trailing newline. */
  lines: readonly string[];
  /** The server's error message. */
  error: string;
  status?: number;
}

/**
 * The dead-letter file: JSON lines `{"time","sink","query","line","error","status"}`, one per
 * rejected line, so an operator can inspect and replay what InfluxDB refused. The error text is
 * redacted (a server may echo the request's credentials); the lines are data, kept as sent. Each
 * group is one append followed by fsync; appends are serialised within the process. Failures
 * reject: the caller must then not acknowledge the lines (loss is never silent).
 */
export class DeadLetterFile {
  readonly path: string;
  private readonly now: () => Date;
  private readonly redactor: Redactor;
  private linesWritten = 0;
  private dirReady = false;
  private tail: Promise<void> = Promise.resolve();

  constructor(path: string, options: { now?: () => Date; redactor?: Redactor } = {}) {
    this.path = path;
    this.now = options.now ?? (() => new Date());
    this.redactor = options.redactor ?? Redactor.none();
  }

  /** Lines appended since this object was created. */
  get count(): number {
    return this.linesWritten;
  }

  /** Appends one group and waits until it is on disk. */
  append(group: DeadLetterGroup): Promise<void> {
    const run = this.tail.then(() => this.write(group));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async write(group: DeadLetterGroup): Promise<void> {
    if (group.lines.length === 0) return;
    const time = this.now().toISOString();
    const error = this.redactor.redact(group.error);
    let text = '';
    for (const line of group.lines) {
      text +=
        JSON.stringify({
          time,
          sink: group.sink,
          query: group.query,
          line,
          error,
          status: group.status ?? null,
        }) + '\n';
    }
    if (!this.dirReady) {
      await ensurePrivateDir(dirname(this.path));
      this.dirReady = true;
    }
    const file = await openPrivateFile(this.path, 'a');
    try {
      await file.appendFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    this.linesWritten += group.lines.length;
  }
}
