import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { Redactor } from '../../../src/core/redact.js';
import { DeadLetterFile } from '../../../src/load/dead-letter.js';

describe('DeadLetterFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-dl-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('redacts the error text, never the lines', async () => {
    const path = join(dir, 'dl.jsonl');
    const token = 'dl-token-5e6f7a8b';
    const file = new DeadLetterFile(path, {
      redactor: Redactor.of({ secrets: [token], basic: [] }),
    });
    await file.append({
      sink: 'influxdb',
      query: 'up',
      lines: [`m,t=${token} f=1 1`],
      error: `partial write: echo {"Authorization":"Token ${token}"} dropped=1`,
      status: 400,
    });
    const [row] = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(row).toMatchObject({
      line: `m,t=${token} f=1 1`,
      error: 'partial write: echo {"Authorization":"Token [REDACTED]"} dropped=1',
    });
  });

  it('creates parent directories lazily and appends one JSON line per rejected line', async () => {
    const path = join(dir, 'nested', 'deeper', 'dead-letter.jsonl');
    const file = new DeadLetterFile(path, { now: () => new Date('2024-05-01T00:00:00Z') });
    await file.append({
      sink: 'influxdb',
      query: 'up',
      lines: ['m f=NaN 1', 'm f="x'],
      error: 'invalid number',
      status: 400,
    });
    await file.append({ sink: 'influxdb', query: 'cpu', lines: ['c f=1 1'], error: 'too large' });
    const rows = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual([
      {
        time: '2024-05-01T00:00:00.000Z',
        sink: 'influxdb',
        query: 'up',
        line: 'm f=NaN 1',
        error: 'invalid number',
        status: 400,
      },
      {
        time: '2024-05-01T00:00:00.000Z',
        sink: 'influxdb',
        query: 'up',
        line: 'm f="x',
        error: 'invalid number',
        status: 400,
      },
      {
        time: '2024-05-01T00:00:00.000Z',
        sink: 'influxdb',
        query: 'cpu',
        line: 'c f=1 1',
        error: 'too large',
        status: null,
      },
    ]);
    expect(file.count).toBe(3);
  });

  it('keeps concurrent appends whole and in call order', async () => {
    const path = join(dir, 'dl.jsonl');
    const file = new DeadLetterFile(path);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        file.append({ sink: 's', query: 'q', lines: [`line ${i}`], error: 'e' }),
      ),
    );
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { line: string }).line)).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${i}`),
    );
  });

  it('rejects when the file cannot be written, and keeps working for later appends elsewhere', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const file = new DeadLetterFile(join(blocker, 'dl.jsonl'));
    await expect(file.append({ sink: 's', query: 'q', lines: ['a'], error: 'e' })).rejects.toThrow(
      /ENOTDIR|EEXIST/,
    );
    await expect(
      file.append({ sink: 's', query: 'q', lines: ['b'], error: 'e' }),
    ).rejects.toThrow();
    expect(file.count).toBe(0);
  });
});
