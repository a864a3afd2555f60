import { Writable } from 'node:stream';

import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  formatCount,
  formatProgressLine,
  startProgressReporter,
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

/** A reporter over a half-done backfill, on fake timers, logging every second. */
function startOn(isTTY: boolean) {
  vi.useFakeTimers({ now: 10_000 });
  const stream = collect(isTTY);
  const logs = collect(false);
  const reporter = startProgressReporter({
    progress: halfDone(),
    stream,
    logger: pino(logs),
    logIntervalMs: 1_000,
  });
  return { stream, logs, reporter };
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
    expect(frames.slice(1, 3)).toEqual([
      expect.stringMatching(/^\[#{12}\.{12}\]  50\.0%  1\.23M samples/),
      expect.stringMatching(/^\[#{12}\.{12}\]  50\.0%/),
    ]);
    expect(frames.slice(3)).toEqual(['']); // cleared once; stop() after clear() adds nothing
    expect(stream.text()).not.toContain('\n');
    expect(logs.text()).toBe('');
  });

  it('logs a progress line every interval when not on a terminal', async () => {
    const { stream, logs, reporter } = startOn(false);
    await vi.advanceTimersByTimeAsync(2_500);
    reporter.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    const lines = logs
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
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
