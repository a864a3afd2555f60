import { truncate } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { loadConfigFile } from '../../../src/config/index.js';
import { expandedNodesExceed, MAX_CONFIG_BYTES } from '../../../src/config/bounded-yaml.js';
import { issuesOf, parse, tempDir, yamlWith, type Doc } from './helpers.js';

const TIMER_LIMIT =
  'must be at most 24d20h31m23s647ms (2147483647 ms, the longest wait a Node.js timer supports)';

/** Every duration that ends up in a setTimeout, as a patch setting it to `value`. */
const TIMER_KEYS: [string, (value: string) => Doc][] = [
  ['extract.timeout', (v) => ({ extract: { timeout: v } })],
  // initial_delay may not exceed max_delay: both are set.
  [
    'extract.retry.initial_delay',
    (v) => ({ extract: { retry: { initial_delay: v, max_delay: v } } }),
  ],
  ['extract.retry.max_delay', (v) => ({ extract: { retry: { max_delay: v } } })],
  ['load.influxdb.timeout', (v) => ({ load: { influxdb: { timeout: v } } })],
  [
    'load.influxdb.retry.initial_delay',
    (v) => ({ load: { influxdb: { retry: { initial_delay: v, max_delay: v } } } }),
  ],
  ['load.influxdb.retry.max_delay', (v) => ({ load: { influxdb: { retry: { max_delay: v } } } })],
  ['pipeline.shutdown_grace', (v) => ({ pipeline: { shutdown_grace: v } })],
  ['pipeline.start_jitter', (v) => ({ pipeline: { start_jitter: v } })],
];

describe('durations that end up in a timer', () => {
  it.each(TIMER_KEYS)('%s: 25d is rejected at validation', async (path, patch) => {
    const issues = await issuesOf(yamlWith(patch('25d')));
    expect(issues).toContainEqual({ path, message: TIMER_LIMIT });
  });

  it.each(TIMER_KEYS)('%s: the longest timer is accepted', async (_path, patch) => {
    await expect(parse(yamlWith(patch('2147483647ms')))).resolves.toBeDefined();
  });

  it('bounds interval_seconds, the wait between cycles of run', async () => {
    expect(await issuesOf(yamlWith({ pipeline: { interval_seconds: 2_160_000 } }))).toEqual([
      { path: 'pipeline.interval_seconds', message: 'must be an integer from 1 to 2147483' },
    ]);
    const ok = await parse(yamlWith({ pipeline: { interval_seconds: 2_147_483 } }));
    expect(ok.config.pipeline.intervalSeconds).toBe(2_147_483);
  });

  it('leaves durations that only measure a range unbounded', async () => {
    const loaded = await parse(
      yamlWith({
        pipeline: { delay: '30d', initial_lookback: '90d', max_catchup: '365d' },
        transform: { max_future_skew: '30d' },
        extract: { queries: [{ name: 'q', query: 'up', step: '30d' }] },
      }),
    );
    expect(loaded.config.pipeline.maxCatchupMs).toBe(365 * 86_400_000);
    expect(loaded.config.extract.queries[0]!.stepMs).toBe(30 * 86_400_000);
  });
});

describe('tag keys InfluxDB reserves', () => {
  const message =
    'is a tag key InfluxDB reserves (time, _field, _measurement); choose another name';

  it.each(['time', '_field', '_measurement'])('rejects %s in static_tags', async (key) => {
    expect(await issuesOf(yamlWith({ transform: { static_tags: { [key]: 'x' } } }))).toEqual([
      { path: `transform.static_tags.${key}`, message },
    ]);
  });

  it.each(['time', '_field', '_measurement'])("rejects %s in a query's tags", async (key) => {
    const queries = [{ name: 'q', query: 'up', tags: { [key]: 'x' } }];
    expect(await issuesOf(yamlWith({ extract: { queries } }))).toEqual([
      { path: `extract.queries[0].tags.${key}`, message },
    ]);
  });

  it('accepts look-alikes', async () => {
    const loaded = await parse(
      yamlWith({ transform: { static_tags: { Time: 'a', field: 'b', prom_time: 'c' } } }),
    );
    expect(loaded.config.transform.staticTags).toEqual({ Time: 'a', field: 'b', prom_time: 'c' });
  });
});

/** A "billion laughs": 9 levels of 9 aliases each, 9^9 (387 million) strings expanded. */
function aliasBomb(levels = 9): string {
  let yaml = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i < levels; i++) {
    yaml += `a${i}: &a${i} [${Array<string>(9)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  }
  return yaml;
}

describe('unbounded YAML', () => {
  it('rejects an alias bomb before expanding it, naming the alias limit', async () => {
    const issues = await issuesOf(`${yamlWith()}${aliasBomb()}`);
    expect(issues).toEqual([
      {
        path: '',
        message: expect.stringMatching(
          /^the YAML expands to more than 100000 values, counting each use of an alias \(\*name\) in full \(the alias limit\)/,
        ),
      },
    ]);
  });

  it('rejects an alias bomb in a PROMFLUX__* value the same way', async () => {
    const bomb = `{${aliasBomb().trim().split('\n').join(', ')}}`;
    const issues = await issuesOf(yamlWith(), { env: { PROMFLUX__TRANSFORM__STATIC_TAGS: bomb } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('PROMFLUX__TRANSFORM__STATIC_TAGS');
    expect(issues[0]!.message).toContain('(the alias limit)');
  });

  it('counts shared nodes at every use and stops at the limit', () => {
    const leaf = ['a', 'b'];
    const shared = { x: leaf, y: leaf }; // 1 + 2 × 3 = 7 nodes as a tree
    expect(expandedNodesExceed(shared, 7)).toBe(false);
    expect(expandedNodesExceed(shared, 6)).toBe(true);
  });

  it('accepts a config that uses an anchor', async () => {
    const yaml =
      'extract: {prometheus_url: &u "http://localhost:9090"}\n' +
      'load: {influxdb: {url: "http://localhost:8086", bucket: b}}\n' +
      'transform: {static_tags: {source: *u}}\n';
    expect((await parse(yaml)).config.transform.staticTags).toEqual({
      source: 'http://localhost:9090',
    });
  });

  it('rejects a file over 1 MiB before reading it', async () => {
    const tmp = await tempDir();
    try {
      const path = await tmp.file('big.yaml', yamlWith());
      // Sparse: stat sees the size, but a reader would get a megabyte of NUL bytes.
      await truncate(path, MAX_CONFIG_BYTES + 1);
      const err = await loadConfigFile(path, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        {
          path: '',
          message: `config file "${path}" is ${MAX_CONFIG_BYTES + 1} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
        },
      ]);
    } finally {
      await tmp.cleanup();
    }
  });

  it('reads a file of exactly 1 MiB', async () => {
    const tmp = await tempDir();
    try {
      const text = yamlWith();
      const path = await tmp.file('padded.yaml', text + '#'.repeat(MAX_CONFIG_BYTES - text.length));
      expect((await loadConfigFile(path, {})).config.load.influxdb.bucket).toBe('health_metrics');
    } finally {
      await tmp.cleanup();
    }
  });
});
