import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import type { PromfluxConfig } from '../../../src/config/types.js';
import type { ExportManifest } from '../../../src/export/manifest.js';
import type { PrometheusClient } from '../../../src/extract/prometheus.js';
import {
  ContinuousExporter,
  EXPORT_RESOLUTION_MS,
  exportStateKey,
  planExportHours,
} from '../../../src/pipeline/continuous-export.js';
import type { Pipeline } from '../../../src/pipeline/pipeline.js';
import { tierStateKey } from '../../../src/pipeline/windows.js';
import { WatermarkStore } from '../../../src/state/watermark-store.js';
import { badData, FakePrometheusClient } from '../../support/fake-prometheus-client.js';

const H = EXPORT_RESOLUTION_MS;
const T0 = Date.UTC(2026, 10, 1); // a UTC midnight
const PIPELINE = {
  delayMs: 60_000,
  latenessMs: 0,
  initialLookbackMs: 300_000,
  maxCatchupMs: 24 * H,
};

describe('planExportHours', () => {
  it('holds an hour back until it ends by now - delay - lateness, then plans it alone', () => {
    const pipeline = { ...PIPELINE, latenessMs: 600_000 };
    const hourEnd = T0 + 3 * H;
    const plan = (nowMs: number) =>
      planExportHours({ nowMs, pipeline, stepMs: 15_000, watermarkMs: hourEnd - H });
    expect(plan(hourEnd + 660_000 - 1)).toBeUndefined();
    expect(plan(hourEnd + 660_000)).toEqual({
      windows: { fromMs: hourEnd - H, toMs: hourEnd },
      // One step before the hour, as for every window; its point is not exported.
      extract: { startMs: hourEnd - H - 15_000, endMs: hourEnd - 15_000 },
      gap: undefined,
    });
  });

  it('starts a query without a watermark at the hour holding now - initial_lookback, though shorter than an hour', () => {
    const nowMs = T0 + 5 * H + 20 * 60_000;
    const input = { nowMs, pipeline: PIPELINE, stepMs: 60_000, watermarkMs: undefined };
    expect(planExportHours(input)?.windows).toEqual({ fromMs: T0 + 4 * H, toMs: T0 + 5 * H });
    const longer = { ...PIPELINE, initialLookbackMs: 3 * H };
    expect(planExportHours({ ...input, pipeline: longer })?.windows).toEqual({
      fromMs: T0 + 2 * H,
      toMs: T0 + 5 * H,
    });
  });

  it('catches up every hour after the watermark, never rewrites one, and reports a gap past max_catchup', () => {
    const nowMs = T0 + 30 * H + 120_000;
    const watermarkMs = T0 + 2 * H;
    const caughtUp = planExportHours({
      nowMs,
      pipeline: { ...PIPELINE, maxCatchupMs: 48 * H },
      stepMs: 15_000,
      watermarkMs,
    });
    expect(caughtUp?.windows).toEqual({ fromMs: watermarkMs, toMs: T0 + 30 * H });
    expect(caughtUp?.gap).toBeUndefined();
    const capped = planExportHours({ nowMs, pipeline: PIPELINE, stepMs: 15_000, watermarkMs });
    expect(capped?.windows).toEqual({ fromMs: T0 + 6 * H, toMs: T0 + 30 * H });
    expect(capped?.gap).toEqual({ fromMs: watermarkMs, toMs: T0 + 6 * H });
  });

  it('plans whole hours from the watermark to the last hour that is complete (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 * H }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom(1_000, 15_000, 60_000, 300_000),
        fc.integer({ min: 0, max: 2 * H }),
        (offset, hoursBack, stepMs, latenessMs) => {
          const nowMs = T0 + 30 * H + offset;
          const cutoff = nowMs - PIPELINE.delayMs - latenessMs;
          const watermarkMs = Math.floor(cutoff / H) * H - hoursBack * H;
          const pipeline = { ...PIPELINE, latenessMs, maxCatchupMs: 100 * H };
          const plan = planExportHours({ nowMs, pipeline, stepMs, watermarkMs });
          if (hoursBack === 0) {
            expect(plan).toBeUndefined();
            return;
          }
          expect(plan!.windows.fromMs).toBe(watermarkMs);
          expect(plan!.windows.toMs % H).toBe(0);
          expect(plan!.windows.toMs).toBeLessThanOrEqual(cutoff);
          expect(plan!.windows.toMs + H).toBeGreaterThan(cutoff);
          expect(plan!.extract).toEqual({
            startMs: watermarkMs - stepMs,
            endMs: plan!.windows.toMs - stepMs,
          });
        },
      ),
      { seed: 1515, numRuns: 300 },
    );
  });
});

describe('exportStateKey', () => {
  it('is the tier state key of the tier "export" at R = 1h', () => {
    expect(exportStateKey({ name: 'up', stepMs: 15_000 })).toBe(
      tierStateKey({ query: 'up', tier: 'export', stepMs: 15_000, resolutionMs: H }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

const STEP_MS = 60_000;

function fakeSeries() {
  return [
    { labels: { __name__: 'up', job: 'app', instance: 'a:1' }, valueAt: (t: number) => t / 1e6 },
    {
      labels: { __name__: 'up', job: 'app', instance: 'b:2' },
      // No samples in the third hour after T0: that hour has one series.
      valueAt: (t: number) => (t >= T0 + 2 * H && t < T0 + 3 * H ? undefined : (t / 1e3) % 97),
    },
  ];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

describe('ContinuousExporter', () => {
  let dir: string;
  let config: PromfluxConfig;
  let client: FakePrometheusClient;
  let store: WatermarkStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-continuous-'));
    ({ config } = await parseConfig(
      `extract:
  prometheus_url: "http://127.0.0.1:9"
  # Two chunks per hour: hours complete in the middle of a run.
  max_points_per_series: 31
  queries:
    - { name: up, query: "up", step: 1m }
load:
  influxdb: { url: "http://127.0.0.1:9", bucket: "db" }
  export: { dir: dataset }
pipeline:
  delay: 0s
  initial_lookback: 3h
  state_dir: state
`,
      { env: {}, baseDir: dir },
    ));
    client = new FakePrometheusClient(fakeSeries());
    store = await WatermarkStore.open(join(dir, 'state', 'watermarks.json'));
  });
  afterEach(async () => {
    // The store persists in the background: a write still renaming its temporary file into the
    // state directory made the removal fail with ENOTEMPTY.
    await store.flush().catch(() => undefined);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  const pipeline = (): Pipeline => ({
    config,
    client: client as unknown as PrometheusClient,
    sinks: [],
    tierSinks: new Map(),
    logger: pino({ level: 'silent' }),
    limiter: undefined,
    close: () => Promise.resolve(),
  });
  const cycle = (exporter: ContinuousExporter, nowMs: number) =>
    exporter.cycle(pipeline(), store, { nowMs, logger: pino({ level: 'silent' }) });
  const dataset = () => join(dir, 'dataset');
  const manifest = async () =>
    JSON.parse(await readFile(join(dataset(), 'manifest.json'), 'utf8')) as ExportManifest;
  const hourFile = (h: number) => {
    const iso = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '');
    const date = new Date(h).toISOString().slice(0, 10);
    return `query=up/date=${date}/${iso(h)}_${iso(h + H)}.parquet`;
  };

  it('writes one file per complete hour, named by it, listed in the manifest, and moves its watermark', async () => {
    const exporter = new ContinuousExporter();
    expect(await cycle(exporter, T0 + 3 * H + 30 * 60_000)).toBe(true);
    expect(await filesUnder(dataset())).toEqual(
      ['manifest.json', hourFile(T0), hourFile(T0 + H), hourFile(T0 + 2 * H)].sort(),
    );
    expect(store.get(exportStateKey({ name: 'up', stepMs: STEP_MS }))?.watermarkMs).toBe(
      T0 + 3 * H,
    );
    const m = await manifest();
    expect(m).toMatchObject({
      mode: 'continuous',
      complete: true,
      layout: 'long',
      format: 'parquet',
      range: { from: new Date(T0).toISOString(), to: new Date(T0 + 3 * H).toISOString() },
    });
    const files = m.queries[0]!.files;
    expect(files.map((f) => f.path)).toEqual([
      hourFile(T0),
      hourFile(T0 + H),
      hourFile(T0 + 2 * H),
    ]);
    // 60 one-minute points per series and hour; the third hour has one series.
    expect(files.map((f) => f.rows)).toEqual([120, 120, 60]);
    expect(m.queries[0]!.series).toBe(1);
    for (const f of files) {
      const bytes = await readFile(join(dataset(), f.path));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect((await stat(join(dataset(), f.path))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(join(dataset(), 'manifest.json'))).mode & 0o777).toBe(0o600);

    // Nothing is due again until the next hour is complete: no request at all.
    const requests = client.requests.length;
    expect(await cycle(exporter, T0 + 4 * H - 1)).toBe(true);
    expect(client.requests.length).toBe(requests);
    expect(await cycle(exporter, T0 + 4 * H)).toBe(true);
    expect(client.requests.slice(requests).map((r) => [r.startMs, r.endMs])).toEqual([
      [T0 + 3 * H - STEP_MS, T0 + 3 * H + 29 * STEP_MS],
      [T0 + 3 * H + 30 * STEP_MS, T0 + 4 * H - STEP_MS],
    ]);
    expect((await manifest()).queries[0]!.files.map((f) => f.path)).toEqual([
      hourFile(T0),
      hourFile(T0 + H),
      hourFile(T0 + 2 * H),
      hourFile(T0 + 3 * H),
    ]);
  });

  it('after a failure keeps the hours completed before it; the rerun writes the same bytes and no second file', async () => {
    const clean = new ContinuousExporter();
    expect(await cycle(clean, T0 + 3 * H)).toBe(true);
    const reference = await manifest();
    await rm(dataset(), { recursive: true });
    await store.flush();
    store = await WatermarkStore.open(join(dir, 'state', 'other.json'));

    // The chunk after the first hour fails: the first hour stays exported, nothing else.
    client.failOn = (req) => (req.startMs >= T0 + H ? badData(req) : undefined);
    expect(await cycle(new ContinuousExporter(), T0 + 3 * H)).toBe(false);
    expect(await filesUnder(dataset())).toEqual(['manifest.json', hourFile(T0)]);
    expect(store.get(exportStateKey({ name: 'up', stepMs: STEP_MS }))?.watermarkMs).toBe(T0 + H);

    client.failOn = undefined;
    expect(await cycle(new ContinuousExporter(), T0 + 3 * H)).toBe(true);
    expect((await manifest()).queries).toEqual(reference.queries);
    expect(await filesUnder(dataset())).toEqual(
      ['manifest.json', hourFile(T0), hourFile(T0 + H), hourFile(T0 + 2 * H)].sort(),
    );
  });

  it('replaces what an interrupted run of the hour left: a further part and temporary files', async () => {
    const partition = join(dataset(), 'query=up/date=2026-11-01');
    await mkdir(partition, { recursive: true });
    const leftovers = [
      hourFile(T0).replace('.parquet', '_2.parquet'),
      `query=up/date=2026-11-01/.promflux-${T0}-0.parquet.tmp`,
      `query=up/date=2026-11-01/.promflux-${T0}-1.parquet.tmp`,
    ];
    for (const f of leftovers) await writeFile(join(dataset(), f), 'partial');
    // Another hour's file, and a name that is not promflux's, stay.
    const unrelated = ['query=up/date=2026-11-01/notes.txt', hourFile(T0 + 5 * H)];
    for (const f of unrelated) await writeFile(join(dataset(), f), 'keep');
    expect(await cycle(new ContinuousExporter(), T0 + H)).toBe(true);
    // initial_lookback 3h: the hours from T0 - 2h.
    expect(await filesUnder(dataset())).toEqual(
      ['manifest.json', hourFile(T0 - 2 * H), hourFile(T0 - H), hourFile(T0), ...unrelated].sort(),
    );
    expect((await manifest()).queries[0]!.files.map((f) => f.path)).toEqual(
      [hourFile(T0 - 2 * H), hourFile(T0 - H), hourFile(T0)].sort(),
    );
  });

  it('exports the same hours with rollup tiers only (no raw tier) as with one bucket', async () => {
    expect(await cycle(new ContinuousExporter(), T0 + 2 * H)).toBe(true);
    const withBucket = (await manifest()).queries[0]!.files.map((f) => [f.path, f.rows, f.sha256]);
    // The store persists in the background: a write landing after the removal would bring the
    // first run's watermark back, and the second run would find nothing due.
    await store.flush();
    await rm(join(dir, 'state'), { recursive: true, force: true });
    await rm(dataset(), { recursive: true, force: true });
    ({ config } = await parseConfig(
      `extract:
  prometheus_url: "http://127.0.0.1:9"
  max_points_per_series: 31
  queries:
    - { name: up, query: "up", step: 1m }
load:
  influxdb: { url: "http://127.0.0.1:9" }
  tiers:
    - { name: warm, bucket: "db_warm", retention: 0, resolution: 5m }
  export: { dir: dataset }
pipeline:
  delay: 0s
  initial_lookback: 3h
  state_dir: state
`,
      { env: {}, baseDir: dir },
    ));
    store = await WatermarkStore.open(join(dir, 'state', 'watermarks.json'));
    expect(await cycle(new ContinuousExporter(), T0 + 2 * H)).toBe(true);
    const rollupOnly = (await manifest()).queries[0]!.files.map((f) => [f.path, f.rows, f.sha256]);
    expect(rollupOnly).toHaveLength(3);
    expect(rollupOnly).toEqual(withBucket);
  });

  it('refuses a directory holding an ad hoc export, and a query whose files hold another expression', async () => {
    await mkdir(dataset(), { recursive: true });
    await writeFile(join(dataset(), 'manifest.json'), JSON.stringify({ manifest_version: 1 }));
    expect(await cycle(new ContinuousExporter(), T0 + 2 * H)).toBe(false);
    expect(client.requests).toEqual([]);
    await rm(dataset(), { recursive: true });

    expect(await cycle(new ContinuousExporter(), T0 + H)).toBe(true);
    config.extract.queries[0]!.expr = 'up == 1';
    const before = client.requests.length;
    expect(await cycle(new ContinuousExporter(), T0 + 2 * H)).toBe(false);
    expect(client.requests.length).toBe(before);
  });
});
