import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { transformWarnings } from '../../../src/transform/config-warnings.js';
import { parse, tempDir, yamlWith, type Doc } from '../config/helpers.js';

const warningsFor = async (patch: Doc) => transformWarnings((await parse(yamlWith(patch))).config);
const queries = (...list: Array<[string, string]>) =>
  list.map(([name, query]) => ({ name, query }));

describe('transformWarnings', () => {
  it('warns about queries the whitelist drops, with or without a metric name', async () => {
    expect(
      await warningsFor({
        extract: {
          queries: queries(
            ['ones', 'vector(1)'],
            ['clock', 'time()'],
            ['sum', '1 + 2'],
            ['other', 'rate(other_total[5m])'],
            ['fine', 'rate(up[5m])'],
          ),
        },
        transform: { valid_metrics: ['up'] },
      }),
    ).toEqual([
      'query "ones" selects no metric by name, so its series have no metric name that ' +
        'transform.valid_metrics could list: they will be dropped (an empty valid_metrics keeps ' +
        'everything).',
      'query "clock" selects no metric by name, so its series have no metric name that ' +
        'transform.valid_metrics could list: they will be dropped (an empty valid_metrics keeps ' +
        'everything).',
      'query "sum" selects no metric by name, so its series have no metric name that ' +
        'transform.valid_metrics could list: they will be dropped (an empty valid_metrics keeps ' +
        'everything).',
      'query "other" selects other_total, which transform.valid_metrics does not list: its ' +
        'series will be dropped.',
    ]);
  });

  it('says nothing about queries without a metric name when there is no whitelist', async () => {
    expect(await warningsFor({ extract: { queries: queries(['ones', 'vector(1)']) } })).toEqual([]);
  });

  it('names label mappings that merge series, once for global rules, per query for its own', async () => {
    expect(
      await warningsFor({
        extract: {
          queries: [
            { name: 'a', query: 'up', labels: { rename: { pod: 'env' } } },
            { name: 'b', query: 'up', tags: { prom_x: '1' } },
          ],
        },
        transform: { static_tags: { env: 'prod', metric_type: 'health' } },
      }),
    ).toEqual([
      'transform.labels / static_tags: static tag "metric_type" replaces the "metric_type" tag ' +
        'promflux sets itself: series that differ only there become one series.',
      'query "a": label "pod" is renamed to "env", a tag key promflux sets itself: it is written ' +
        'as "prom_env", as a series\' own "env" label is, and series that differ only there ' +
        'become one series.',
      'query "b": static tag "prom_x" starts with "prom_", the prefix of escaped label names: it ' +
        'replaces the label "x" where a series has one.',
    ]);
  });
});

describe('promflux check-config', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  it('prints the transform warnings and still exits 0', async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const path = await tmp.file(
      'promflux.yaml',
      yamlWith({
        extract: { queries: queries(['ones', 'vector(1)']) },
        transform: { valid_metrics: ['up'], labels: { rename: { a: 'b', c: 'prom_d' } } },
      }),
    );
    const err: string[] = [];
    const code = await main(['node', 'promflux', 'check-config', '--config', path], {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: new Writable({
        write(chunk: Buffer, _enc, cb) {
          err.push(chunk.toString());
          cb();
        },
      }),
      env: {},
    });
    expect(code).toBe(0);
    expect(err.join('')).toBe(
      'warning: transform.labels / static_tags: label "c" is renamed to "prom_d", which starts ' +
        'with "prom_", the prefix of escaped label names: it is written as "prom_prom_d", as a ' +
        'series\' own "prom_d" label is, and series that differ only there become one series.\n' +
        'warning: query "ones" selects no metric by name, so its series have no metric name ' +
        'that transform.valid_metrics could list: they will be dropped (an empty valid_metrics ' +
        'keeps everything).\n',
    );
  });
});
