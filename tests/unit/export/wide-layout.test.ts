import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seriesBlock } from '../../../src/core/series.js';
import { exportSeries } from '../../../src/export/long-layout.js';
import {
  WideTableBuilder,
  wideColumnLabels,
  writeWideLayout,
} from '../../../src/export/wide-layout.js';
import { duckdbQuery, sqlString } from '../../support/duckdb-reader.js';

const STEP = 60_000;
const FROM = Date.UTC(2024, 2, 1, 23, 55);
const TO = FROM + 10 * STEP; // 23:55 .. 00:04, two UTC days
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function table() {
  const builder = new WideTableBuilder({ fromMs: FROM, toMs: TO, stepMs: STEP }, 3);
  const at = (...steps: number[]) => steps.map((k) => FROM + k * STEP);
  // Series a arrives in two chunks; b has gaps; c only after midnight.
  builder.add(
    'cpu',
    exportSeries(seriesBlock({ instance: 'a' }, at(0, 1, 2, 3, 4), [0, 1, 2, 3, 4])),
  );
  builder.add(
    'cpu',
    exportSeries(seriesBlock({ instance: 'a' }, at(5, 6, 7, 8, 9), [5, 6, 7, 8, 9])),
  );
  builder.add(
    'cpu',
    exportSeries(seriesBlock({ instance: 'B' }, at(1, 4, 8), [0.5, -4.25, 1e300])),
  );
  builder.add('mem', exportSeries(seriesBlock({ instance: 'c' }, at(6, 7), [60, 70])));
  return builder.build();
}

describe('wide layout', () => {
  it('aligns series on the grid with nulls where a series has no sample, read back by DuckDB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'promflux-wide-'));
    dirs.push(dir);
    const t = table();
    const names = t.columns.map((c) => c.name);
    const labels = wideColumnLabels(t);
    const [a, b, c] = ['a', 'B', 'c'].map((i) =>
      names.find((n) => labels[n]!.labels.instance === i)!,
    );
    expect(labels[c!]).toEqual({ query: 'mem', labels: { instance: 'c' } });
    const files = await writeWideLayout(
      t,
      { dir, query: 'cpu' },
      { format: 'parquet', rowGroupRows: 4, createdBy: 't' },
    );
    expect(files.map((f) => [f.path.split('/')[1], f.rows])).toEqual([
      ['date=2024-03-01', 5],
      ['date=2024-03-02', 5],
    ]);
    const rows = await duckdbQuery(
      `select epoch_ms("timestamp") as ms, ${[a, b, c].map((n) => `"${n}"`).join(', ')}
       from read_parquet(${sqlString(join(dir, '**/*.parquet'))}, hive_partitioning = true) order by ms`,
    );
    expect(rows.map((r) => Number(r.ms))).toEqual(
      Array.from({ length: 10 }, (_, k) => FROM + k * STEP),
    );
    expect(rows.map((r) => r[a!])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows.map((r) => r[b!])).toEqual([
      null,
      0.5,
      null,
      null,
      -4.25,
      null,
      null,
      null,
      1e300,
      null,
    ]);
    expect(rows.map((r) => r[c!])).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      60,
      70,
      null,
      null,
    ]);
    const types = await duckdbQuery(
      `describe select * from read_parquet(${sqlString(join(dir, files[0]!.path))}, hive_partitioning = false)`,
    );
    // The first day has no sample of c, and still types its column.
    expect(types.map((r) => r.column_type)).toEqual([
      'TIMESTAMP WITH TIME ZONE',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
    ]);
    const again = await mkdtemp(join(tmpdir(), 'promflux-wide-'));
    dirs.push(again);
    await writeWideLayout(
      table(),
      { dir: again, query: 'cpu' },
      { format: 'parquet', rowGroupRows: 4, createdBy: 't' },
    );
    for (const f of files)
      expect((await readFile(join(again, f.path))).equals(await readFile(join(dir, f.path)))).toBe(
        true,
      );
  });

  it('refuses more series than --max-columns, and samples off the grid', () => {
    const builder = new WideTableBuilder({ fromMs: FROM, toMs: TO, stepMs: STEP }, 2);
    builder.add('q', exportSeries(seriesBlock({ i: '1' }, [FROM], [1])));
    builder.add('q', exportSeries(seriesBlock({ i: '2' }, [FROM], [1])));
    builder.add('q', exportSeries(seriesBlock({ i: '1' }, [FROM + STEP], [2])));
    expect(() => builder.add('q', exportSeries(seriesBlock({ i: '3' }, [FROM], [1])))).toThrow(
      /The wide layout would need more than 2 columns \(one per series\); export with --layout long/,
    );
    expect(() => builder.add('q', exportSeries(seriesBlock({ i: '1' }, [FROM + 1], [1])))).toThrow(
      /not on the 60000 ms grid/,
    );
  });
});
