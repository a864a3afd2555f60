/**
 * Deterministic OpenMetrics fixtures for backfilling a real Prometheus with
 * `promtool tsdb create-blocks-from openmetrics` (Prometheus 2.42).
 *
 * What promtool 2.42 requires, found by running it:
 * - the text must end with `# EOF` (otherwise `data does not end with # EOF`, exit 1);
 * - every sample needs a timestamp, in SECONDS (fractions allowed: `1700000000.5`); a millisecond
 *   number is read as seconds and lands in the year 55000;
 * - within one series, samples must be in increasing time order: an older or equal timestamp is
 *   silently dropped (exit code still 0). Interleaving different series is accepted;
 * - `# TYPE` lines are optional; a counter family is `# TYPE http_requests counter` with samples named
 *   `http_requests_total` (the suffixed family name is accepted too);
 * - blocks are cut at 2h boundaries by default, and promtool re-reads the whole input once per block
 *   range, so long fixtures should be backfilled with `--max-block-duration` (servers.ts does);
 * - invalid escapes such as `\q` are accepted verbatim; empty label values are dropped (Prometheus
 *   treats `x=""` as "label absent").
 *
 * Output here is grouped series by series (each series' samples oldest first), which satisfies all of
 * the above.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** Options of {@link generateHealthFixture}. Both `startMs` and `endMs` are inclusive. */
export interface HealthFixtureOptions {
  startMs: number;
  endMs: number;
  intervalMs: number;
  /** Number of scrape targets (`instance` label values `app-0:8080`, `app-1:8080`, ...). */
  instances: number;
  /** Seed of the pseudo-random traffic (default 1). Same options ⇒ same bytes. */
  seed?: number;
  /** Adds the `test_special_labels` gauge (see {@link SPECIAL_LABEL_CASES}). */
  specialLabels?: boolean;
  /** Every n-th sample (n, 2n, ...) of each gauge series is NaN. */
  nanEvery?: number;
  /** Adds the `test_reserved_columns` gauge (see {@link RESERVED_COLUMN_LABELS}). */
  reservedColumnLabels?: boolean;
}

export type FixtureMetricType = 'gauge' | 'counter' | 'histogram';

export interface FixtureSample {
  timestampMs: number;
  value: number;
}

/** One concrete series: `name` is the sample name (`http_requests_total`, `..._bucket`). */
export interface FixtureSeries {
  name: string;
  labels: Record<string, string>;
  samples: FixtureSample[];
}

/** A metric family as written under one `# TYPE` line. */
export interface FixtureFamily {
  name: string;
  type: FixtureMetricType;
  help: string;
  series: FixtureSeries[];
}

export const FIXTURE_JOB = 'test-app';
export const HTTP_METHODS = ['GET', 'POST'] as const;
export const HTTP_STATUSES = ['200', '404', '500', '503'] as const;
/** Upper bounds of `http_request_duration_seconds`, `le` spelled as prom-client does. */
export const DURATION_BUCKETS = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'] as const;

/**
 * The awkward label values of `test_special_labels`, one series per case, in the label `text`.
 * The `reserved` case also carries labels named `time`, `_field` and `_measurement`, which are valid
 * Prometheus label names but reserved tag keys in line protocol. The `empty` case's `text` is `""`,
 * which Prometheus stores as "no `text` label".
 */
export const SPECIAL_LABEL_CASES: readonly { case: string; text: string }[] = [
  { case: 'comma', text: 'a,b' },
  { case: 'space', text: 'a b' },
  { case: 'equals', text: 'a=b' },
  { case: 'quote', text: 'say "hi"' },
  { case: 'backslash', text: 'C:\\path\\to' },
  { case: 'trailing_backslash', text: 'ends with\\' },
  { case: 'newline', text: 'line1\nline2' },
  { case: 'tab', text: 'col1\tcol2' },
  { case: 'unicode', text: 'Zürich 東京 🚀' },
  { case: 'empty', text: '' },
  { case: 'reserved', text: 'reserved names' },
  { case: 'combined', text: 'a,b c=d "e" \\f\n\tZürich\\' },
];

/** Labels of the `reserved` special case besides job/instance/case/text. */
export const RESERVED_NAME_LABELS: Readonly<Record<string, string>> = {
  time: 't1',
  _field: 'f1',
  _measurement: 'm1',
};

/**
 * Label sets of `test_reserved_columns`, one series each: labels named like the columns and
 * partition keys an export writes itself (`timestamp`, `value`, `query`, `date`, `split`), with
 * values that differ from what those columns hold, so a reader that mixes them up is caught.
 */
export const RESERVED_COLUMN_LABELS: readonly Readonly<Record<string, string>>[] = [
  {
    date: '1999-12-31',
    query: 'not-the-query',
    timestamp: 'ts-label',
    value: 'value-label',
    split: 'split-label',
  },
  { date: '2000-01-01', query: 'other-query' },
];

/** `instance` label value of target `i`. */
export function fixtureInstance(i: number): string {
  return `app-${i}:8080`;
}

/** The sample timestamps of a fixture: `startMs, startMs + intervalMs, ...` up to `endMs` inclusive. */
export function fixtureTimestamps(
  opts: Pick<HealthFixtureOptions, 'startMs' | 'endMs' | 'intervalMs'>,
): number[] {
  validateRange(opts.startMs, opts.endMs, opts.intervalMs);
  const out: number[] = [];
  for (let t = opts.startMs; t <= opts.endMs; t += opts.intervalMs) out.push(t);
  return out;
}

/**
 * The health fixture as data, for tests that need expected values:
 * - `up{job,instance}` gauge: 1, sometimes 0 (about 1 in 20);
 * - `http_requests_total{job,instance,method,status}` counter: monotonic, except that instance 0
 *   "restarts" at the middle sample (when there are at least 3): its counters start again from the
 *   increment of that step;
 * - `http_request_duration_seconds{job,instance,method}` histogram: cumulative `_bucket{le}`,
 *   `_count` equal to the `+Inf` bucket, `_sum` in whole milliseconds (latencies exponential, mean 120 ms); reset with the same restart;
 * - `test_special_labels` gauge when `specialLabels`;
 * - `test_reserved_columns` gauge when `reservedColumnLabels`.
 * `nanEvery` turns every n-th sample of each gauge series into NaN.
 */
export function buildHealthFixture(opts: HealthFixtureOptions): FixtureFamily[] {
  const timestamps = fixtureTimestamps(opts);
  if (!Number.isInteger(opts.instances) || opts.instances < 1) {
    throw new RangeError(`instances must be a positive integer, got ${opts.instances}`);
  }
  if (opts.nanEvery !== undefined && (!Number.isInteger(opts.nanEvery) || opts.nanEvery < 1)) {
    throw new RangeError(`nanEvery must be a positive integer, got ${opts.nanEvery}`);
  }
  const seed = opts.seed ?? 1;
  const restartIndex = timestamps.length >= 3 ? Math.floor(timestamps.length / 2) : -1;
  const gaugeValue = (k: number, v: number): number =>
    opts.nanEvery !== undefined && (k + 1) % opts.nanEvery === 0 ? Number.NaN : v;

  const up: FixtureFamily = {
    name: 'up',
    type: 'gauge',
    help: 'Whether the target answered its last scrape.',
    series: [],
  };
  const requests: FixtureFamily = {
    name: 'http_requests',
    type: 'counter',
    help: 'HTTP requests served.',
    series: [],
  };
  const durations: FixtureFamily = {
    name: 'http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request latency.',
    series: [],
  };

  for (let i = 0; i < opts.instances; i++) {
    const instance = fixtureInstance(i);
    const base = { job: FIXTURE_JOB, instance };
    const restartsAt = i === 0 ? restartIndex : -1;

    const upRng = rngFor(seed, `up/${instance}`);
    up.series.push({
      name: 'up',
      labels: { ...base },
      samples: timestamps.map((timestampMs, k) => ({
        timestampMs,
        value: gaugeValue(k, upRng() < 0.05 ? 0 : 1),
      })),
    });

    for (const method of HTTP_METHODS) {
      for (const status of HTTP_STATUSES) {
        const rng = rngFor(seed, `requests/${instance}/${method}/${status}`);
        const [low, high] = REQUEST_RATE[status];
        const scale = method === 'GET' ? 1 : 0.5;
        let total = Math.floor(rng() * 1000 * scale);
        requests.series.push({
          name: 'http_requests_total',
          labels: { ...base, method, status },
          samples: timestamps.map((timestampMs, k) => {
            const increment = Math.floor((low + rng() * (high - low)) * scale);
            total = k === restartsAt ? increment : total + increment;
            return { timestampMs, value: total };
          }),
        });
      }
    }

    for (const method of HTTP_METHODS) {
      durations.series.push(...histogramSeries(seed, base, method, timestamps, restartsAt));
    }
  }

  const families = [up, requests, durations];
  if (opts.specialLabels) {
    const special: FixtureFamily = {
      name: 'test_special_labels',
      type: 'gauge',
      help: 'Label values that need escaping in every format.',
      series: SPECIAL_LABEL_CASES.map((c, index) => ({
        name: 'test_special_labels',
        labels: {
          job: FIXTURE_JOB,
          instance: fixtureInstance(0),
          case: c.case,
          text: c.text,
          ...(c.case === 'reserved' ? RESERVED_NAME_LABELS : {}),
        },
        samples: timestamps.map((timestampMs, k) => ({
          timestampMs,
          value: gaugeValue(k, index * 10 + (k % 5)),
        })),
      })),
    };
    families.push(special);
  }
  if (opts.reservedColumnLabels) {
    families.push({
      name: 'test_reserved_columns',
      type: 'gauge',
      help: 'Labels named like the columns of an export.',
      series: RESERVED_COLUMN_LABELS.map((labels, index) => ({
        name: 'test_reserved_columns',
        labels: { job: FIXTURE_JOB, instance: fixtureInstance(0), ...labels },
        samples: timestamps.map((timestampMs, k) => ({
          timestampMs,
          value: gaugeValue(k, 100 * (index + 1) + (k % 7) / 4),
        })),
      })),
    });
  }
  return families;
}

/** Deterministic OpenMetrics text of {@link buildHealthFixture}, ending with `# EOF\n`. */
export function generateHealthFixture(opts: HealthFixtureOptions): string {
  return renderOpenMetrics(buildHealthFixture(opts));
}

/** Renders families as OpenMetrics text: TYPE/HELP, then each series oldest sample first, `# EOF`. */
export function renderOpenMetrics(families: FixtureFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# TYPE ${family.name} ${family.type}`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    for (const series of family.series) {
      const head = series.name + formatLabels(series.labels);
      for (const s of series.samples) {
        lines.push(`${head} ${formatValue(s.value)} ${formatTimestamp(s.timestampMs)}`);
      }
    }
  }
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

/** OpenMetrics label value escaping: backslash, double quote and newline (nothing else). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** `{a="1",b="2"}` in insertion order, or '' without labels. */
export function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Sample value: `NaN`, `+Inf`, `-Inf`, otherwise the shortest round-trip decimal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Integer milliseconds → OpenMetrics seconds, exact (`1700000000`, `1700000000.25`). */
export function formatTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`timestamp must be a non-negative integer of milliseconds, got ${ms}`);
  }
  const seconds = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  if (fraction === 0) return String(seconds);
  return `${seconds}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}

/** Options of {@link generateLoadFixture}; `startMs` and `endMs` inclusive. */
export interface LoadFixtureOptions {
  series: number;
  startMs: number;
  endMs: number;
  intervalMs: number;
}

/** Value of load series `i` at sample index `k`: cheap, deterministic, two decimals (0–999.99). */
export function loadFixtureValue(i: number, k: number): number {
  return ((i * 7919 + k * 104_729) % 100_000) / 100;
}

const LOAD_CHUNK_CHARS = 1 << 20;

/**
 * The benchmark fixture: `series` gauge series
 * `bench_metric{job="bench",instance="bench-<i % 10>:9100",series="<i>"}` with values from
 * {@link loadFixtureValue}, as a lazy iterable of ~1 MiB string chunks (the whole text can be
 * hundreds of MB, so it is never held in memory at once; works with `for await` and
 * `Readable.from`). Concatenated, the chunks are a complete OpenMetrics document ending with
 * `# EOF\n`. Use {@link writeLoadFixture} to put it in a file for
 * `startPrometheus({ openMetricsFile })`.
 */
export function* generateLoadFixture(opts: LoadFixtureOptions): Generator<string> {
  validateRange(opts.startMs, opts.endMs, opts.intervalMs);
  if (!Number.isInteger(opts.series) || opts.series < 1) {
    throw new RangeError(`series must be a positive integer, got ${opts.series}`);
  }
  const timestamps = fixtureTimestamps(opts).map(formatTimestamp);
  let chunk = '# TYPE bench_metric gauge\n# HELP bench_metric Synthetic benchmark series.\n';
  for (let i = 0; i < opts.series; i++) {
    const head = `bench_metric{job="bench",instance="bench-${i % 10}:9100",series="${i}"} `;
    for (let k = 0; k < timestamps.length; k++) {
      chunk += `${head}${loadFixtureValue(i, k)} ${timestamps[k]}\n`;
      if (chunk.length >= LOAD_CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
  }
  yield `${chunk}# EOF\n`;
}

/**
 * Writes {@link generateLoadFixture} to `path` (respecting stream backpressure) and returns the
 * byte and sample counts.
 */
export async function writeLoadFixture(
  path: string,
  opts: LoadFixtureOptions,
): Promise<{ bytes: number; samples: number }> {
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  let bytes = 0;
  for (const chunk of generateLoadFixture(opts)) {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { bytes, samples: opts.series * fixtureTimestamps(opts).length };
}

const REQUEST_RATE: Record<(typeof HTTP_STATUSES)[number], [number, number]> = {
  '200': [20, 40],
  '404': [0, 4],
  '500': [0, 3],
  '503': [0, 2],
};

const BUCKET_BOUNDS_MS = [50, 100, 250, 500, 1000, 2500, Infinity];

function histogramSeries(
  seed: number,
  base: Record<string, string>,
  method: string,
  timestamps: number[],
  restartsAt: number,
): FixtureSeries[] {
  const rng = rngFor(seed, `durations/${base.instance}/${method}`);
  const buckets = BUCKET_BOUNDS_MS.map(() => 0);
  let count = 0;
  let sumMs = 0;
  const bucketSamples: FixtureSample[][] = BUCKET_BOUNDS_MS.map(() => []);
  const countSamples: FixtureSample[] = [];
  const sumSamples: FixtureSample[] = [];
  timestamps.forEach((timestampMs, k) => {
    if (k === restartsAt) {
      buckets.fill(0);
      count = 0;
      sumMs = 0;
    }
    const observations = 10 + Math.floor(rng() * 20);
    for (let n = 0; n < observations; n++) {
      // Exponential with a 120 ms mean (p95 ≈ 360 ms), capped at 5 s.
      const latencyMs = Math.min(5000, Math.round(-Math.log(1 - rng()) * 120));
      sumMs += latencyMs;
      count++;
      BUCKET_BOUNDS_MS.forEach((bound, b) => {
        if (latencyMs <= bound) buckets[b]!++;
      });
    }
    buckets.forEach((c, b) => bucketSamples[b]!.push({ timestampMs, value: c }));
    countSamples.push({ timestampMs, value: count });
    sumSamples.push({ timestampMs, value: sumMs / 1000 });
  });
  const labels = { ...base, method };
  return [
    ...DURATION_BUCKETS.map((le, b) => ({
      name: 'http_request_duration_seconds_bucket',
      labels: { ...labels, le },
      samples: bucketSamples[b]!,
    })),
    { name: 'http_request_duration_seconds_count', labels, samples: countSamples },
    { name: 'http_request_duration_seconds_sum', labels, samples: sumSamples },
  ];
}

function validateRange(startMs: number, endMs: number, intervalMs: number): void {
  if (!Number.isSafeInteger(startMs) || !Number.isSafeInteger(endMs) || startMs < 0) {
    throw new RangeError(`startMs/endMs must be non-negative integers, got ${startMs}/${endMs}`);
  }
  if (endMs < startMs) throw new RangeError(`endMs (${endMs}) is before startMs (${startMs})`);
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);
  }
}

/** mulberry32 seeded from the fixture seed and a per-series key, so series are independent. */
function rngFor(seed: number, key: string): () => number {
  let h = 2166136261 ^ (seed >>> 0);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return mulberry32(h);
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}
