import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BatchWriter, type RawResponse } from '../../../src/load/batch-writer.js';
import { lineOffsets } from '../../../src/load/line-offsets.js';
import { DeadLetterFile } from '../../../src/load/dead-letter.js';
import { promotedPerOperation } from '../../support/old-space.js';

const lines = (body: string): string[] => {
  const buf = Buffer.from(body);
  const offsets = lineOffsets(buf);
  return offsets.slice(0, -1).map((start, i) => buf.toString('utf8', start, offsets[i + 1]));
};

describe('lineOffsets', () => {
  it('cuts at newlines without re-encoding, keeping multi-byte text intact', () => {
    expect(lines('a f=1\nb,t=é f=2\n')).toEqual(['a f=1\n', 'b,t=é f=2\n']);
  });

  it('counts a last line without a newline', () => {
    expect(lines('a f=1\nb f=2')).toEqual(['a f=1\n', 'b f=2']);
  });

  it('attaches blank lines to the line before and ignores an all-blank body', () => {
    expect(lines('\na f=1\n\n\nb f=2\n')).toEqual(['\na f=1\n\n\n', 'b f=2\n']);
    expect(lineOffsets(Buffer.from('\n\n'))).toEqual([0]);
    expect(lineOffsets(Buffer.alloc(0))).toEqual([0]);
  });
});

describe('BatchWriter with a scripted transport', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-bw-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bisects to the bad lines, writes the rest in order, and never splits a line', async () => {
    const bodies: string[] = [];
    const post = (body: Buffer): Promise<RawResponse> => {
      const text = body.toString('utf8');
      bodies.push(text);
      const bad = text.split('\n').filter((l) => l.includes('BAD'));
      return Promise.resolve(
        bad.length
          ? {
              status: 400,
              headers: {},
              body: JSON.stringify({
                code: 'invalid',
                message: `unable to parse '${bad[0]}': invalid number`,
              }),
            }
          : { status: 204, headers: {}, body: '' },
      );
    };
    const deadLetter = new DeadLetterFile(join(dir, 'dl.jsonl'));
    const writer = new BatchWriter({
      name: 'test',
      post,
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
      deadLetter,
      logger: pino({ level: 'silent' }),
    });
    const input = Array.from({ length: 16 }, (_, i) =>
      i === 3 || i === 12 ? `m BAD=${i}` : `m f=${i} ${i}`,
    );
    const report = await writer.write({
      body: Buffer.from(input.join('\n') + '\n'),
      lines: 16,
      precision: 's',
      query: 'q',
    });
    expect(report).toMatchObject({ written: 14, rejected: 2 });
    expect(deadLetter.count).toBe(2);
    const accepted = bodies
      .filter((b) => !b.includes('BAD'))
      .flatMap((b) => b.split('\n').filter(Boolean));
    expect(accepted).toEqual(input.filter((l) => !l.includes('BAD')));
    for (const body of bodies) expect(body.endsWith('\n')).toBe(true);
  });

  it('bisects by the lines the body holds when the batch miscounts them, and says so', async () => {
    const bodies: string[] = [];
    const post = (body: Buffer): Promise<RawResponse> => {
      const text = body.toString('utf8');
      bodies.push(text);
      return Promise.resolve(
        text.includes('BAD')
          ? { status: 400, headers: {}, body: '{"error":"unable to parse \'m BAD\': bad"}' }
          : { status: 204, headers: {}, body: '' },
      );
    };
    const warnings: unknown[] = [];
    const writer = new BatchWriter({
      name: 'test',
      post,
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
      deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) }),
    });
    const body = Buffer.from('m f=0 0\nm f=1 1\nm BAD\nm f=3 3\n');
    // A good batch goes whole, whatever it declares: its lines are never looked at.
    const good = Buffer.from('m f=0 0\nm f=1 1\n');
    expect(await writer.write({ body: good, lines: 2, precision: 's', query: 'q' })).toMatchObject({
      written: 2,
      requests: 1,
    });
    expect(bodies).toEqual([good.toString()]);
    bodies.length = 0;

    const report = await writer.write({ body, lines: 3, precision: 's', query: 'q' });
    expect(report).toMatchObject({ written: 3, rejected: 1 });
    expect(bodies[0]).toBe(body.toString()); // first the whole batch, in one request
    expect(bodies.slice(1).join('')).toContain('m f=3 3\n');
    expect(warnings.filter((w) => (w as { level: number }).level === 40)).toEqual([
      expect.objectContaining({
        declared: 3,
        actual: 4,
        msg: expect.stringContaining('does not match'),
      }),
    ]);
  });
  const writerWith = (
    post: (body: Buffer, p: unknown, signal?: AbortSignal) => Promise<RawResponse>,
  ) =>
    new BatchWriter({
      name: 'test',
      post,
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
      deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
      logger: pino({ level: 'silent' }),
    });
  const batch = { body: Buffer.from('m f=1 1\n'), lines: 1, precision: 's' as const, query: 'q' };

  it("with a deadline too, aborts on the caller's signal and leaves nothing on it", async () => {
    let posted = (): void => {};
    const sent = new Promise<void>((resolve) => (posted = resolve));
    const writer = writerWith(
      (_body, _p, signal) =>
        new Promise((_resolve, reject) => {
          signal!.addEventListener('abort', () => reject(signal!.reason as Error), { once: true });
          posted();
        }),
    );
    const caller = new AbortController();
    const pending = writer.write(batch, {
      signal: caller.signal,
      deadlineMs: Date.now() + 60_000,
    });
    await sent;
    caller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('honours a deadline beyond the longest timer Node has (2^31 - 1 ms)', async () => {
    // Node fires a longer timer after 1 ms; the write must not be cut short by that.
    let answer = (): void => {};
    const writer = writerWith(
      (_body, _p, signal) =>
        new Promise((resolve, reject) => {
          signal!.addEventListener('abort', () => reject(signal!.reason as Error), { once: true });
          answer = () => resolve({ status: 204, headers: {}, body: '' });
        }),
    );
    const pending = writer.write(batch, { deadlineMs: Date.now() + 2 ** 31 + 60_000 });
    // Long enough for a timer clamped to 1 ms to have fired.
    await new Promise((r) => setTimeout(r, 50));
    answer();
    await expect(pending).resolves.toBeDefined();
  });

  it('leaves nothing of a finished write for the old generation to collect', async () => {
    // As in http-client.test.ts: what a write leaves alive through a young-generation collection
    // is promoted, and a backfill makes thousands of writes between two full collections.
    const writer = writerWith(() => Promise.resolve({ status: 204, headers: {}, body: '' }));
    const caller = new AbortController();
    // As the pipeline writes: with its long-lived signal, without a deadline.
    const write = async () => {
      expect((await writer.write(batch, { signal: caller.signal })).written).toBe(1);
    };
    const promotedPerWrite = await promotedPerOperation(write);
    // Measured on Node 20: ~3.7 KB a write with AbortSignal.any and a deadline signal, ~0 without.
    expect(promotedPerWrite).toBeLessThan(500);
  });
});
