import { describe, expect, it } from 'vitest';
import {
  buildHealthFixture,
  escapeLabelValue,
  formatTimestamp,
  formatValue,
  generateHealthFixture,
  generateLoadFixture,
  loadFixtureValue,
  SPECIAL_LABEL_CASES,
  type HealthFixtureOptions,
} from '../../../scripts/lib/openmetrics-fixture.js';

const START = 1_700_000_000_000;
const OPTS: HealthFixtureOptions = {
  startMs: START,
  endMs: START + 10 * 60_000,
  intervalMs: 15_000,
  instances: 2,
  specialLabels: true,
};

/** Minimal OpenMetrics sample-line parser (unescapes `\\`, `\"`, `\n`) to check the round trip. */
function parseSample(line: string): {
  name: string;
  labels: Record<string, string>;
  value: string;
  timestamp: string;
} {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))![0];
      i += key.length;
      expect(line.slice(i, i + 2)).toBe('="');
      i += 2;
      let value = '';
      while (line[i] !== '"') {
        if (line[i] === '\\') {
          const next = line[i + 1];
          expect(['\\', '"', 'n']).toContain(next);
          value += next === 'n' ? '\n' : next;
          i += 2;
        } else {
          value += line[i];
          i++;
        }
      }
      i++;
      labels[key] = value;
      if (line[i] === ',') i++;
    }
    i++;
  }
  const [value, timestamp, ...rest] = line.slice(i).trim().split(' ');
  expect(rest).toEqual([]);
  return { name, labels, value: value!, timestamp: timestamp! };
}

describe('generateHealthFixture', () => {
  it('is deterministic: same options give the same bytes, another seed other bytes', () => {
    const a = generateHealthFixture({ ...OPTS, nanEvery: 4 });
    const b = generateHealthFixture({ ...OPTS, nanEvery: 4 });
    expect(a).toBe(b);
    expect(generateHealthFixture({ ...OPTS, nanEvery: 4, seed: 2 })).not.toBe(a);
  });

  it('ends with # EOF and has TYPE lines for every family', () => {
    const text = generateHealthFixture(OPTS);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.split('# EOF').length).toBe(2);
    for (const type of [
      '# TYPE up gauge',
      '# TYPE http_requests counter',
      '# TYPE http_request_duration_seconds histogram',
      '# TYPE test_special_labels gauge',
    ]) {
      expect(text.split('\n')).toContain(type);
    }
  });

  it('writes one line per sample, timestamps in seconds, series oldest first', () => {
    const families = buildHealthFixture(OPTS);
    const sampleCount = families.flatMap((f) => f.series).reduce((n, s) => n + s.samples.length, 0);
    const lines = generateHealthFixture(OPTS)
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    expect(lines).toHaveLength(sampleCount);
    const lastTs = new Map<string, number>();
    for (const line of lines) {
      const sample = parseSample(line);
      const ts = Number(sample.timestamp);
      expect(ts).toBeGreaterThanOrEqual(START / 1000);
      expect(ts).toBeLessThanOrEqual(OPTS.endMs / 1000);
      const key = sample.name + JSON.stringify(sample.labels);
      expect(ts).toBeGreaterThan(lastTs.get(key) ?? 0);
      lastTs.set(key, ts);
    }
  });

  it('escapes special label values so they parse back to the original text', () => {
    const lines = generateHealthFixture(OPTS)
      .split('\n')
      .filter((l) => l.startsWith('test_special_labels{'));
    const texts = new Map<string, string>();
    for (const line of lines) {
      const { labels } = parseSample(line);
      texts.set(labels.case!, labels.text!);
    }
    expect(texts.size).toBe(SPECIAL_LABEL_CASES.length);
    for (const c of SPECIAL_LABEL_CASES) expect(texts.get(c.case)).toBe(c.text);
    const reserved = parseSample(lines.find((l) => l.includes('case="reserved"'))!).labels;
    expect(reserved).toMatchObject({ time: 't1', _field: 'f1', _measurement: 'm1' });
    expect(lines.find((l) => l.includes('case="trailing_backslash"'))).toContain(
      'text="ends with\\\\"',
    );
  });

  it('omits test_special_labels unless asked', () => {
    expect(generateHealthFixture({ ...OPTS, specialLabels: false })).not.toContain(
      'test_special_labels',
    );
  });

  it('makes every n-th gauge sample NaN and nothing else', () => {
    const families = buildHealthFixture({ ...OPTS, nanEvery: 3 });
    for (const family of families) {
      for (const series of family.series) {
        series.samples.forEach((s, k) => {
          expect(Number.isNaN(s.value)).toBe(family.type === 'gauge' && (k + 1) % 3 === 0);
        });
      }
    }
  });

  it('has up in {0, 1}, counters monotonic except one reset on instance 0', () => {
    const families = buildHealthFixture({ ...OPTS, endMs: START + 3_600_000 });
    const up = families.find((f) => f.name === 'up')!;
    for (const s of up.series) for (const p of s.samples) expect([0, 1]).toContain(p.value);

    const counters = families.find((f) => f.name === 'http_requests')!;
    expect(counters.series).toHaveLength(2 * 2 * 4);
    for (const s of counters.series) {
      expect(['200', '404', '500', '503']).toContain(s.labels.status);
      const resets: number[] = [];
      for (let k = 1; k < s.samples.length; k++) {
        if (s.samples[k]!.value < s.samples[k - 1]!.value) resets.push(k);
      }
      const restartIndex = Math.floor(s.samples.length / 2);
      expect(resets).toEqual(s.labels.instance === 'app-0:8080' ? [restartIndex] : []);
    }
  });

  it('has consistent histograms: cumulative buckets, _count = +Inf bucket', () => {
    const histogram = buildHealthFixture(OPTS).find((f) => f.type === 'histogram')!;
    const byKey = new Map<string, Map<string, number[]>>();
    for (const s of histogram.series) {
      const key = `${s.labels.instance}/${s.labels.method}`;
      const part = s.name.endsWith('_bucket') ? `le=${s.labels.le}` : s.name;
      if (!byKey.has(key)) byKey.set(key, new Map());
      byKey.get(key)!.set(
        part,
        s.samples.map((p) => p.value),
      );
    }
    expect(byKey.size).toBe(4);
    for (const parts of byKey.values()) {
      const les = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
      const count = parts.get('http_request_duration_seconds_count')!;
      const sum = parts.get('http_request_duration_seconds_sum')!;
      count.forEach((c, k) => {
        const buckets = les.map((le) => parts.get(`le=${le}`)![k]!);
        for (let b = 1; b < buckets.length; b++)
          expect(buckets[b]).toBeGreaterThanOrEqual(buckets[b - 1]!);
        expect(buckets.at(-1)).toBe(c);
        expect(c).toBeGreaterThan(0);
        expect(sum[k]).toBeGreaterThan(0);
      });
    }
  });

  it('rejects bad ranges', () => {
    expect(() => generateHealthFixture({ ...OPTS, intervalMs: 0 })).toThrow(RangeError);
    expect(() => generateHealthFixture({ ...OPTS, endMs: START - 1 })).toThrow(RangeError);
    expect(() => generateHealthFixture({ ...OPTS, instances: 0 })).toThrow(RangeError);
  });
});

describe('OpenMetrics formatting', () => {
  it('escapes only backslash, double quote and newline in label values', () => {
    expect(escapeLabelValue('a\\b"c\nd\te,f=g ')).toBe('a\\\\b\\"c\\nd\te,f=g ');
    expect(escapeLabelValue('ends\\')).toBe('ends\\\\');
    expect(escapeLabelValue('')).toBe('');
  });

  it('formats timestamps as exact seconds', () => {
    expect(formatTimestamp(1_700_000_000_000)).toBe('1700000000');
    expect(formatTimestamp(1_700_000_000_250)).toBe('1700000000.25');
    expect(formatTimestamp(1_700_000_000_001)).toBe('1700000000.001');
    expect(() => formatTimestamp(1.5)).toThrow(RangeError);
  });

  it('formats special values the OpenMetrics way', () => {
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(-Infinity)).toBe('-Inf');
    expect(formatValue(0.1)).toBe('0.1');
  });
});

describe('generateLoadFixture', () => {
  function collect(opts: Parameters<typeof generateLoadFixture>[0]): string {
    let text = '';
    for (const chunk of generateLoadFixture(opts)) text += chunk;
    return text;
  }

  it('writes every series × timestamp once, deterministically, ending with # EOF', () => {
    const opts = { series: 30, startMs: START, endMs: START + 60_000 * 60, intervalMs: 60_000 };
    const text = collect(opts);
    expect(collect(opts)).toBe(text);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    const samples = text.split('\n').filter((l) => l.startsWith('bench_metric{'));
    expect(samples).toHaveLength(30 * 61);
    expect(samples[61]).toBe(
      `bench_metric{job="bench",instance="bench-1:9100",series="1"} ${loadFixtureValue(1, 0)} 1700000000`,
    );
  });

  it('splits large output into chunks that concatenate to complete lines', () => {
    const chunks: string[] = [];
    for (const chunk of generateLoadFixture({
      series: 200,
      startMs: START,
      endMs: START + 15_000 * 400,
      intervalMs: 15_000,
    })) {
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(1);
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('bench_metric{'))).toHaveLength(200 * 401);
  });
});
