import { Writable } from 'node:stream';

import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  formatBytes,
  formatCount,
  formatProgressLine,
  startProgressReporter,
  type ProgressKind,
} from '../../../src/cli/progress-display.js';
import { BackfillProgress } from '../../../src/pipeline/backfill-progress.js';

function collect(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return Object.assign(stream, { isTTY, text: () => chunks.join('') });
}

function halfDone(): BackfillProgress {
  const progress = new BackfillProgress(
    [{ name: 'cpu', range: { startMs: 0, endMs: 99_000 }, stepMs: 1_000 }],
    0,
  );
  progress.addSamples('cpu', 1_234_567);
  progress.ack('cpu', 49_000);
  return progress;
}

/** An export's progress kind, with 12,345 rows and 1.5 MB written. */
const EXPORT_KIND: ProgressKind = {
  message: 'Export progress.',
  written: () => ({ rows: 12_345, bytes: 1_500_000 }),
};

/** A reporter over a half-done backfill (or export), on fake timers, logging every second. */
function startOn(isTTY: boolean, kind?: ProgressKind) {
  vi.useFakeTimers({ now: 10_000 });
  const stream = collect(isTTY);
  const logs = collect(false);
  const reporter = startProgressReporter({
    progress: halfDone(),
    stream,
    logger: pino(logs),
    logIntervalMs: 1_000,
    ...(kind && { kind }),
  });
  return { stream, logs, reporter };
}

function logLines(logs: { text: () => string }): Record<string, unknown>[] {
  return logs
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('progress display', () => {
  afterEach(() => vi.useRealTimers());

  it('formats counts with three significant digits', () => {
    expect([0, 999, 1_000, 12_345, 999_499, 999_500, 1_234_567, 5e9].map(formatCount)).toEqual([
      '0',
      '999',
      '1.00k',
      '12.3k',
      '999k',
      '1.00M',
      '1.23M',
      '5.00G',
    ]);
  });

  it('formats bytes in decimal units', () => {
    expect([0, 999, 1_000, 1_500_000, 2.5e9].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.00 kB',
      '1.50 MB',
      '2.50 GB',
    ]);
  });

  it('draws an export bar with the rows and bytes written, their rate and ETA', () => {
    expect(formatProgressLine(halfDone().snapshot(10_000), EXPORT_KIND)).toBe(
      '[############............]  50.0%  12.3k rows  1.50 MB  1.23k rows/s  ETA 10s  cpu (0/1 queries done)',
    );
  });

  it('logs export progress as such, with rows and bytes', async () => {
    const { logs, reporter } = startOn(false, EXPORT_KIND);
    await vi.advanceTimersByTimeAsync(1_500);
    reporter.stop();
    const [line, ...rest] = logLines(logs);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      msg: 'Export progress.',
      progress: '50.0%',
      rows: 12_345,
      bytes: 1_500_000,
      rowsPerSecond: 1_122, // the first line comes at 11 s
      eta: '11s',
    });
    expect(line).not.toHaveProperty('samples');
  });

  it('draws a bar with percent, samples, rate, ETA and the current query', () => {
    expect(formatProgressLine(halfDone().snapshot(10_000))).toBe(
      '[############............]  50.0%  1.23M samples  123k samples/s  ETA 10s  cpu (0/1 queries done)',
    );
  });

  it('redraws one terminal line, and clears it for other output', async () => {
    const { stream, logs, reporter } = startOn(true);
    await vi.advanceTimersByTimeAsync(500);
    reporter.clear();
    reporter.stop();
    const frames = stream.text().split('\r\x1b[K');
    expect(frames[0]).toBe('');
    // At once, then every 250 ms.
    expect(frames.slice(1, 4)).toEqual([
      expect.stringMatching(/^\[#{12}\.{12}\]  50\.0%  1\.23M samples/),
      expect.stringMatching(/^\[#{12}\.{12}\]  50\.0%/),
      expect.stringMatching(/^\[#{12}\.{12}\]  50\.0%/),
    ]);
    expect(frames.slice(4)).toEqual(['']); // cleared once; stop() after clear() adds nothing
    expect(stream.text()).not.toContain('\n');
    expect(logs.text()).toBe('');
  });

  it('logs a progress line every interval when not on a terminal', async () => {
    const { stream, logs, reporter } = startOn(false);
    await vi.advanceTimersByTimeAsync(2_500);
    reporter.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    const lines = logLines(logs);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: 'Backfill progress.',
      progress: '50.0%',
      samples: 1_234_567,
      query: 'cpu',
      queriesDone: 0,
      queries: 1,
    });
    expect(stream.text()).toBe('');
  });
});
