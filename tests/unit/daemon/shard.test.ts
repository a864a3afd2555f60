import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownsQuery, shardOf } from '../../../src/daemon/shard.js';
import { parseConfig } from '../../../src/config/load-config.js';

describe('query sharding', () => {
  it('gives every query to exactly one replica, for any set of names and replica count', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 50 }),
        fc.integer({ min: 1, max: 16 }),
        (names, count) => {
          for (const name of names) {
            const owners = Array.from({ length: count }, (_, index) => index).filter((index) =>
              ownsQuery(name, { index, count }),
            );
            expect(owners).toEqual([shardOf(name, count)]);
          }
        },
      ),
    );
  });

  it('is FNV-1a of the UTF-8 name, stable across releases (documented)', () => {
    // FNV-1a 32-bit test vectors: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968.
    expect(shardOf('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1));
    expect(shardOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
  });

  it('reads the shard from pipeline.shard or $PROMFLUX_SHARD, and rejects nonsense', async () => {
    const yaml = (extra = ''): string =>
      `extract: { prometheus_url: "http://p:9090" }\nload: { influxdb: { url: "http://i:8086", api: v1, bucket: db } }\n${extra}`;
    const parse = (text: string, env: NodeJS.ProcessEnv = {}) =>
      parseConfig(text, { env, baseDir: '/tmp', source: 'test.yaml' });
    expect((await parse(yaml())).config.pipeline.shard).toEqual({ index: 0, count: 1 });
    expect((await parse(yaml(), { PROMFLUX_SHARD: '2/4' })).config.pipeline.shard).toEqual({
      index: 2,
      count: 4,
    });
    const fromFile = await parse(yaml('pipeline: { shard: "1/3" }'), { PROMFLUX_SHARD: '2/4' });
    expect(fromFile.config.pipeline.shard).toEqual({ index: 1, count: 3 });
    const asObject = await parse(yaml('pipeline: { shard: { index: 2, count: 5 } }'));
    expect(asObject.config.pipeline.shard).toEqual({ index: 2, count: 5 });
    await expect(parse(yaml(), { PROMFLUX_SHARD: '4/4' })).rejects.toThrow(
      /pipeline\.shard: must be "index\/count".*PROMFLUX_SHARD/,
    );
    for (const bad of ['{ index: 5, count: 5 }', '{ index: -1, count: 2 }', '{ index: 1 }']) {
      await expect(parse(yaml(`pipeline: { shard: ${bad} }`))).rejects.toThrow(
        /pipeline\.shard: must be "index\/count" or \{index, count\}/,
      );
    }
  });
});
