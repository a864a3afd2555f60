import { describe, expect, it } from 'vitest';
import { issuesOf, parse, yamlWith, type Doc } from './helpers.js';

const HOT = { name: 'hot', bucket: 'metrics/hot', retention: '7d' };
const WARM = { name: 'warm', bucket: 'metrics/warm', retention: '90d', resolution: '5m' };
const COLD = { name: 'cold', bucket: 'metrics/cold', retention: '730d', resolution: '1h' };

/** A document with `load.tiers` instead of `load.influxdb.bucket`, patched further. */
function withTiers(tiers: unknown[], patch: Doc = {}): string {
  const load = (patch.load ?? {}) as Doc;
  return yamlWith({
    ...patch,
    load: { ...load, influxdb: { bucket: undefined, ...(load.influxdb as Doc) }, tiers },
  });
}

describe('load.tiers', () => {
  it('resolves the tiers, and every query feeds every tier unless it names some', async () => {
    const { config } = await parse(
      withTiers([HOT, WARM, COLD], {
        extract: {
          queries: [
            { name: 'up', query: 'up' },
            { name: 'reqs', query: 'http_requests_total', kind: 'counter', tiers: ['hot', 'warm'] },
          ],
        },
        load: { provision: true },
      }),
    );
    expect(config.load.tiers).toEqual([
      { name: 'hot', bucket: 'metrics/hot', retentionMs: 7 * 86_400_000 },
      { name: 'warm', bucket: 'metrics/warm', retentionMs: 90 * 86_400_000, resolutionMs: 300_000 },
      {
        name: 'cold',
        bucket: 'metrics/cold',
        retentionMs: 730 * 86_400_000,
        resolutionMs: 3_600_000,
      },
    ]);
    expect(config.load.provision).toBe(true);
    // Raw points go to the raw tier until the pipeline writes per tier.
    expect(config.load.influxdb.bucket).toBe('metrics/hot');
    expect(config.extract.queries.map((q) => [q.name, q.kind, q.tiers])).toEqual([
      ['up', 'auto', ['hot', 'warm', 'cold']],
      ['reqs', 'counter', ['hot', 'warm']],
    ]);
  });

  it('accepts rollup tiers only, and a query that feeds only rollup tiers', async () => {
    const { config } = await parse(
      withTiers([WARM, COLD], {
        extract: {
          queries: [
            { name: 'up', query: 'up', step: '1m' },
            { name: 'reqs', query: 'http_requests_total', step: '1m', tiers: ['cold'] },
          ],
        },
      }),
    );
    expect(config.load.tiers.map((t) => [t.name, t.resolutionMs])).toEqual([
      ['warm', 300_000],
      ['cold', 3_600_000],
    ]);
    // No raw tier: the first tier's bucket is the one `check` probes.
    expect(config.load.influxdb.bucket).toBe('metrics/warm');
    expect(config.extract.queries.map((q) => [q.name, q.tiers])).toEqual([
      ['up', ['warm', 'cold']],
      ['reqs', ['cold']],
    ]);
    const mixed = await parse(
      withTiers([HOT, WARM, COLD], {
        extract: { queries: [{ name: 'q', query: 'up', tiers: ['warm', 'cold'] }] },
      }),
    );
    expect(mixed.config.extract.queries[0]!.tiers).toEqual(['warm', 'cold']);
  });

  it('keeps a single load.influxdb.bucket as one raw tier kept forever', async () => {
    const { config } = await parse(yamlWith({}));
    expect(config.load.tiers).toEqual([
      { name: 'raw', bucket: 'health_metrics', retentionMs: 0, retentionUnmanaged: true },
    ]);
    expect(config.load.provision).toBe(false);
    expect(config.extract.queries.every((q) => q.tiers?.join() === 'raw')).toBe(true);
  });

  it('accepts retention 0 (forever) and a bare 1.x database kept forever', async () => {
    const { config } = await parse(
      withTiers([{ name: 'all', bucket: 'metrics', retention: 0 }], {
        load: { influxdb: { api: 'v1' } },
      }),
    );
    expect(config.load.tiers).toEqual([{ name: 'all', bucket: 'metrics', retentionMs: 0 }]);
  });

  it.each<[string, string, string, string]>([
    [
      'both bucket and tiers',
      yamlWith({ load: { tiers: [HOT] } }),
      'load.influxdb.bucket',
      'cannot be combined with load.tiers (the bucket alone means one raw tier; list it in load.tiers instead)',
    ],
    [
      'duplicate tier names',
      withTiers([HOT, { ...WARM, name: 'hot' }]),
      'load.tiers[1].name',
      'duplicate tier name "hot" (also used by load.tiers[0]); names must be unique',
    ],
    [
      'retention under 1h',
      withTiers([{ ...HOT, retention: '30m' }]),
      'load.tiers[0].retention',
      'tier "hot": retention 30m is under 1h, which InfluxDB 1.x and 2.x refuse (use 0 for forever, or at least 1h)',
    ],
    [
      'retention not whole seconds',
      withTiers([{ ...HOT, retention: '3600500ms' }]),
      'load.tiers[0].retention',
      'tier "hot": must be 0 (forever) or whole seconds',
    ],
    [
      '1.x finite retention on a bare database',
      withTiers([{ ...HOT, bucket: 'metrics' }], { load: { influxdb: { api: 'v1' } } }),
      'load.tiers[0].bucket',
      'tier "hot" has a finite retention, so for InfluxDB 1.x it must name "database/retention_policy" (e.g. "metrics/hot"): promflux never changes a database\'s DEFAULT policy, which other writers share',
    ],
    [
      '1.x target with two slashes',
      withTiers([{ ...HOT, bucket: 'a/b/c' }], { load: { influxdb: { api: 'v1' } } }),
      'load.tiers[0].bucket',
      '"a/b/c" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".',
    ],
    [
      'resolution not a multiple of a step',
      withTiers([HOT, { ...WARM, resolution: '100s' }], {
        extract: { queries: [{ name: 'q', query: 'up', step: '30s' }] },
      }),
      'load.tiers[1].resolution',
      'tier "warm": resolution 1m40s must be a multiple of the step 30s of query "q", which feeds it',
    ],
    [
      'coarser resolution not a multiple of the finer one',
      withTiers([HOT, WARM, { ...COLD, resolution: '7m' }], {
        extract: { queries: [{ name: 'q', query: 'up', step: '1m' }] },
      }),
      'load.tiers[2].resolution',
      'tier "cold": resolution 7m must be a multiple of the finer tier "warm"\'s 5m',
    ],
    [
      'rollup tiers only, with a resolution not a multiple of a step',
      withTiers([{ ...WARM, resolution: '90s' }, COLD], {
        extract: { queries: [{ name: 'q', query: 'up', step: '1m' }] },
      }),
      'load.tiers[0].resolution',
      'tier "warm": resolution 1m30s must be a multiple of the step 1m of query "q", which feeds it',
    ],
    [
      'unknown tier in a query',
      withTiers([HOT, WARM], {
        extract: { queries: [{ name: 'q', query: 'up', tiers: ['hot', 'cool'] }] },
      }),
      'extract.queries[0].tiers[1]',
      'unknown tier "cool" (load.tiers names: hot, warm)',
    ],
    [
      'tier named without load.tiers',
      yamlWith({ extract: { queries: [{ name: 'q', query: 'up', tiers: ['hot'] }] } }),
      'extract.queries[0].tiers[0]',
      'unknown tier "hot" (without load.tiers the one tier is: raw)',
    ],
    [
      'kind not one of the three',
      yamlWith({ extract: { queries: [{ name: 'q', query: 'up', kind: 'histogram' }] } }),
      'extract.queries[0].kind',
      'must be one of auto, gauge, counter',
    ],
    [
      'counter on an expression',
      yamlWith({
        extract: { queries: [{ name: 'q', query: 'sum(rate(x_total[5m]))', kind: 'counter' }] },
      }),
      'extract.queries[0].kind',
      'Query "q": kind: counter needs a bare selector such as http_requests_total{code="500"}, and "sum(rate(x_total[5m]))" is an expression. A sum() or other function of counters drops whenever one target restarts, which would count as a reset; use kind: gauge, or select the counter itself.',
    ],
  ])('refuses %s', async (_what, yaml, path, message) => {
    expect(await issuesOf(yaml)).toEqual([{ path, message }]);
  });

  it("checks the default queries' 15s step when extract.queries is absent", async () => {
    expect(await issuesOf(withTiers([HOT, { ...WARM, resolution: '20s' }]))).toEqual([
      {
        path: 'load.tiers[1].resolution',
        message:
          'tier "warm": resolution 20s must be a multiple of the step 15s of query "availability", which feeds it',
      },
    ]);
  });

  it('only checks a resolution against the queries that feed the tier', async () => {
    const { config } = await parse(
      withTiers([HOT, WARM], {
        extract: {
          queries: [
            { name: 'fine', query: 'up', step: '1m' },
            { name: 'odd', query: 'up', step: '7m', tiers: ['hot'] },
          ],
        },
      }),
    );
    expect(config.load.tiers.map((t) => t.name)).toEqual(['hot', 'warm']);
  });
});

describe('pipeline.lateness and rewrite_windows', () => {
  it('default to 0 and take a duration and a count', async () => {
    const { config } = await parse(yamlWith({ pipeline: { lateness: '2m', rewrite_windows: 3 } }));
    expect([config.pipeline.latenessMs, config.pipeline.rewriteWindows]).toEqual([120_000, 3]);
    expect(await issuesOf(yamlWith({ pipeline: { rewrite_windows: -1 } }))).toEqual([
      { path: 'pipeline.rewrite_windows', message: 'must be an integer from 0 to 10000' },
    ]);
  });
});

describe('tiers this version accepts but does not act on', () => {
  it('warns for none: every tier is written, rollups with lateness and rewrite_windows', async () => {
    const { warnings } = await parse(
      withTiers([HOT, WARM, { ...HOT, name: 'hot2', bucket: 'metrics/hot2' }, COLD], {
        pipeline: { lateness: '2m', rewrite_windows: 2 },
      }),
    );
    expect(warnings).toEqual([]);
  });

  it('says nothing for tiers without lateness', async () => {
    const { warnings } = await parse(withTiers([HOT, WARM, COLD]));
    expect(warnings).toEqual([]);
  });
});
