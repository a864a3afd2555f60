import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  configHash,
  identityDifference,
  manifestIdentity,
  serializeManifest,
  type ExportIdentity,
} from '../../../src/export/manifest.js';

const identity: ExportIdentity = {
  config_sha256: configHash({ queries: [{ name: 'up', expr: 'up' }], re: /a.b/ }),
  source: { kind: 'prometheus', url: 'http://prometheus:9090' },
  range: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
  layout: 'long',
  format: 'parquet',
  queries: [{ name: 'up', expr: 'up', step_ms: 15_000 }],
};

const file = (
  path: string,
  columns: { name: string; kind: 'timestamp' | 'string' | 'float64' }[],
) => ({
  path,
  rows: 2,
  bytes: 10,
  sha256: 'ab',
  fromMs: 0,
  toMs: 1,
  columns,
});

describe('export manifest', () => {
  it('merges the files schemas: timestamp, query, tags by name, then values', () => {
    const exported = new Map([
      [
        'up',
        {
          series: 2,
          files: [
            file('a', [
              { name: 'timestamp', kind: 'timestamp' },
              { name: 'query', kind: 'string' },
              { name: 'job', kind: 'string' },
              { name: 'value', kind: 'float64' },
            ]),
            file('b', [
              { name: 'timestamp', kind: 'timestamp' },
              { name: 'query', kind: 'string' },
              { name: 'instance', kind: 'string' },
              { name: 'job', kind: 'string' },
              { name: 'value', kind: 'float64' },
            ]),
          ],
        },
      ],
    ]);
    const manifest = buildManifest(identity, exported, {
      version: '0.1.0',
      createdAt: 'now',
      complete: true,
    });
    expect(manifest.queries[0]!.schema.map((c) => c.name)).toEqual([
      'timestamp',
      'query',
      'instance',
      'job',
      'value',
    ]);
  });

  it('reads back its identity, and names the first field two identities differ in', () => {
    const text = serializeManifest(
      buildManifest(identity, new Map(), { version: '0.1.0', createdAt: 'x', complete: false }),
    );
    const back = manifestIdentity(text)!;
    expect(identityDifference(back, identity)).toBeUndefined();
    expect(identityDifference(back, { ...identity, layout: 'wide' })).toBe('layout');
    expect(manifestIdentity('{"not": "a manifest"}')).toBeUndefined();
    expect(manifestIdentity('not json')).toBeUndefined();
  });

  it('hashes the shaping config deterministically, regular expressions by their source', () => {
    expect(configHash({ re: /a.b/ })).toBe(configHash({ re: /a.b/ }));
    expect(configHash({ re: /a.b/ })).not.toBe(configHash({ re: /a.c/ }));
  });
});
