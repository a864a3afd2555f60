import { SinkError } from '../../src/core/errors.js';
import type { Sink, SinkCheckResult, WriteReport } from '../../src/load/sink.js';
import type { LineBatch } from '../../src/core/line-batch.js';

/** A Sink that keeps every acknowledged line, can fail chosen writes, and measures concurrency. */
export class RecordingSink implements Sink {
  readonly name: string;
  readonly lines: string[] = [];
  readonly batches: LineBatch[] = [];
  maxConcurrent = 0;
  private active = 0;
  writes = 0;
  failWrite?: (writeNumber: number, batch: LineBatch) => boolean;
  delayMs = 0;

  constructor(name = 'recording') {
    this.name = name;
  }

  async write(batch: LineBatch): Promise<WriteReport> {
    const n = ++this.writes;
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failWrite?.(n, batch))
        throw new SinkError('SINK_WRITE_FAILED', 'injected failure', 503);
      this.batches.push({ ...batch, body: Buffer.from(batch.body) }); // a copy: the body is reused
      const text = batch.body.toString('utf8');
      this.lines.push(...text.split('\n').filter((l) => l !== ''));
      return {
        written: batch.lines,
        rejected: 0,
        skippedBeyondRetention: 0,
        requests: 1,
        retries: 0,
      };
    } finally {
      this.active--;
    }
  }

  check(): Promise<SinkCheckResult> {
    return Promise.resolve({ ok: true, details: [] });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
