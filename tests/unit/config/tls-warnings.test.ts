import { describe, expect, it } from 'vitest';
import { parse, yamlWith } from './helpers.js';

const insecure = { tls: { insecure_skip_verify: true } };

describe('insecure_skip_verify warnings', () => {
  it('names each https endpoint that skips verification, once, without URL credentials', async () => {
    const { warnings } = await parse(
      yamlWith({
        extract: { prometheus_url: 'https://user:pw@prom.example:9090/prefix', ...insecure },
        load: { influxdb: { url: 'https://influx.example:8086', ...insecure } },
      }),
    );
    expect(warnings.filter((w) => w.includes('insecure_skip_verify'))).toEqual([
      expect.stringMatching(
        /^extract\.tls\.insecure_skip_verify: the certificate of https:\/\/prom\.example:9090\/prefix is not verified/,
      ),
      expect.stringMatching(
        /^load\.influxdb\.tls\.insecure_skip_verify: the certificate of https:\/\/influx\.example:8086 is not verified/,
      ),
    ]);
    expect(warnings.join('\n')).not.toMatch(/user|pw/);
  });

  it('says nothing when verification is on', async () => {
    const { warnings } = await parse(
      yamlWith({ extract: { prometheus_url: 'https://prom.example' } }),
    );
    expect(warnings).toEqual([]);
  });

  it('leaves an http:// URL to the "has no effect" warning alone', async () => {
    const { warnings } = await parse(yamlWith({ extract: insecure }));
    expect(warnings).toEqual([
      'extract.tls.insecure_skip_verify: has no effect because extract.prometheus_url is an http:// URL',
    ]);
  });
});
