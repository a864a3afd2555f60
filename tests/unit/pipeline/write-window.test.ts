import { describe, expect, it, vi } from 'vitest';
import { SinkError } from '../../../src/core/errors.js';
import type { Sink, WriteReport } from '../../../src/load/sink.js';
import type { LineBatch } from '../../../src/core/line-batch.js';
import { WriteWindow } from '../../../src/pipeline/write-window.js';

/** A sink whose writes settle when the test says so, recording what it saw. */
class ManualSink implements Sink {
  readonly name = 'manual';
  readonly pending: Array<{ batch: LineBatch; settle: (ok: boolean) => void }> = [];

  write(batch: LineBatch): Promise<WriteReport> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        batch,
        settle: (ok) =>
          ok
            ? resolve({
                written: batch.lines,
                rejected: 0,
                skippedBeyondRetention: 0,
                requests: 1,
                retries: 0,
              })
            : reject(new SinkError('SINK_WRITE_FAILED', 'boom', 503)),
      });
    });
  }
  check() {
    return Promise.resolve({ ok: true, details: [] });
  }
  close() {
    return Promise.resolve();
  }
}

function batch(released: string[], id: string): LineBatch {
  return {
    body: Buffer.from(`m v=1 ${id}\n`),
    lines: 1,
    precision: 's',
    query: 'q',
    release: () => released.push(id),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteWindow releases each batch exactly once, only when no write of it is left', () => {
  it('after success, after failure, and at once for batches skipped after a failure', async () => {
    const sink = new ManualSink();
    const released: string[] = [];
    const window = new WriteWindow([sink], 2);
    window.beginChunk(1000);
    await window.submit(batch(released, 'a'));
    await window.submit(batch(released, 'b'));
    await tick();
    expect(released).toEqual([]); // both still being written

    sink.pending[0]!.settle(true);
    await tick();
    expect(released).toEqual(['a']);

    sink.pending[1]!.settle(false);
    await tick();
    expect(released).toEqual(['a', 'b']);
    expect(window.hasFailed).toBe(true);

    await window.submit(batch(released, 'c')); // never written after a failure
    expect(released).toEqual(['a', 'b', 'c']);
    expect(sink.pending).toHaveLength(2);
    window.endChunk();
    await window.drain();
    expect(window.ackedThroughMs).toBeUndefined();
  });
});

describe('WriteWindow counts the times it ran empty, and for how long', () => {
  it('from the last outstanding write settling to the next write starting, not while another is in flight', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const sink = new ManualSink();
      const window = new WriteWindow([sink], 2);
      window.beginChunk(1000);
      await window.submit(batch([], 'a'));
      await window.submit(batch([], 'b'));
      sink.pending[0]!.settle(true);
      await tick();
      vi.advanceTimersByTime(30); // b still in flight: the sink had work
      expect(window.emptied).toBe(0);
      await window.submit(batch([], 'c'));
      sink.pending[1]!.settle(true);
      sink.pending[2]!.settle(true);
      await tick();
      expect(window.emptied).toBe(1);
      vi.advanceTimersByTime(40); // nothing in flight
      expect(window.idleMs).toBe(0); // counted once the next write starts
      await window.submit(batch([], 'd'));
      expect(window.idleMs).toBe(40);
      sink.pending[3]!.settle(false);
      await window.drain();
      expect(window.emptied).toBe(2);
      expect(window.idleMs).toBe(40);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('WriteWindow queues encoded batches beyond the writes in flight', () => {
  it('accepts up to maxQueued more without waiting, writes them in order as writes settle, then acks', async () => {
    const sink = new ManualSink();
    const released: string[] = [];
    const acks: number[] = [];
    const window = new WriteWindow([sink], 1, {}, (ms) => acks.push(ms), 2);
    window.beginChunk(1000);
    for (const id of ['a', 'b', 'c']) await window.submit(batch(released, id));
    expect(sink.pending.map((p) => p.batch.body.toString())).toEqual(['m v=1 a\n']);
    let fourthIn = false;
    const fourth = window.submit(batch(released, 'd')).then(() => (fourthIn = true));
    await tick();
    expect(fourthIn).toBe(false); // one in flight and two queued: full
    window.endChunk();

    sink.pending[0]!.settle(true);
    await fourth;
    expect(sink.pending.map((p) => p.batch.body.toString().trim())).toEqual(['m v=1 a', 'm v=1 b']);
    expect(acks).toEqual([]);
    for (let i = 1; i < 4; i++) {
      sink.pending[i]!.settle(true);
      await tick();
    }
    await window.drain();
    expect(sink.pending).toHaveLength(4);
    expect(released).toEqual(['a', 'b', 'c', 'd']);
    expect(acks).toEqual([1000]);
    expect(window.emptied).toBe(1);
  });

  it('after a failure, releases the queued batches unwritten and never acks their chunk', async () => {
    const sink = new ManualSink();
    const released: string[] = [];
    const window = new WriteWindow([sink], 1, {}, undefined, 3);
    window.beginChunk(1000);
    for (const id of ['a', 'b', 'c']) await window.submit(batch(released, id));
    window.endChunk();
    sink.pending[0]!.settle(false);
    await window.drain();
    expect(window.hasFailed).toBe(true);
    expect(sink.pending).toHaveLength(1);
    expect(released.sort()).toEqual(['a', 'b', 'c']);
    expect(window.ackedThroughMs).toBeUndefined();
  });
});
