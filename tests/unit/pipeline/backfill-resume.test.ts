import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PromfluxConfig, QueryConfig, TierConfig } from '../../../src/config/types.js';
import { resumeBackfill } from '../../../src/pipeline/backfill-resume.js';
import { parse, yamlWith } from '../config/helpers.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);
const RANGE = { startMs: T0, endMs: T0 + 3 * HOUR - 60_000 };

describe('resumeBackfill with tiers', () => {
  let dir: string;
  let config: PromfluxConfig;
  let query: QueryConfig;
  let tiers: TierConfig[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-resume-'));
    ({ config } = await parse(
      yamlWith({
        extract: { queries: [{ name: 'up', query: 'up', step: '1m' }] },
        load: {
          influxdb: { bucket: undefined },
          tiers: [
            { name: 'hot', bucket: 'm/hot', retention: '7d' },
            { name: 'warm', bucket: 'm/warm', retention: '90d', resolution: '5m' },
          ],
        },
        pipeline: { state_dir: dir },
      }),
    ));
    query = config.extract.queries[0]!;
    tiers = config.load.tiers;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines: string[] = [];
  const resume = (selected: TierConfig[], fresh = false) =>
    resumeBackfill(config, [query], selected, RANGE, fresh, (l) => lines.push(l));

  it('resumes every tier after the least acknowledged point, keyed by every bucket', async () => {
    const first = await resume(tiers);
    expect(first.tierRunsFor(query).map((r) => r.range)).toEqual([
      { kind: 'raw', points: RANGE },
      { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 3 * HOUR } },
    ]);
    // Every tier is through 01:08 (warm through its window ending 01:10, hot further).
    first.onAck(query, T0 + HOUR + 8 * 60_000);
    await first.finish();
    const saved = JSON.parse(await readFile(join(dir, 'backfill.json'), 'utf8')) as unknown;
    expect(JSON.stringify(saved)).toContain(' m/hot m/warm');

    const second = await resume(tiers);
    expect(lines.at(-1)).toMatch(/^resume up: from /);
    expect(second.tierRunsFor(query).map((r) => r.range)).toEqual([
      { kind: 'raw', points: { startMs: T0 + HOUR + 9 * 60_000, endMs: RANGE.endMs } },
      { kind: 'rollup', windows: { fromMs: T0 + HOUR + 10 * 60_000, toMs: T0 + 3 * HOUR } },
    ]);

    // Other tiers are another job: the warm-only backfill starts afresh.
    const warmOnly = await resume([tiers[1]!]);
    expect(warmOnly.tierRunsFor(query).map((r) => r.range)).toEqual([
      { kind: 'rollup', windows: { fromMs: T0, toMs: T0 + 3 * HOUR } },
    ]);
  });

  it('knows a rollup-only backfill is done when its last window is acknowledged', async () => {
    const first = await resume([tiers[1]!]);
    // What runQuery reports once warm acknowledged its last window: the extraction's last point.
    first.onAck(query, T0 + 3 * HOUR - 60_000);
    await first.finish();
    const second = await resume([tiers[1]!]);
    expect(second.queries).toEqual([]);
    expect(lines.at(-1)).toBe(
      'done   up: already backfilled over this range (state_dir/backfill.json)',
    );
  });

  it('leaves out a query that feeds none of the tiers', async () => {
    const onlyHot = { ...query, tiers: ['hot'] };
    const r = await resumeBackfill(config, [onlyHot], [tiers[1]!], RANGE, false, (l) =>
      lines.push(l),
    );
    expect(r.queries).toEqual([]);
    expect(lines.at(-1)).toBe('skip   up: feeds none of the tiers backfilled');
  });
});
