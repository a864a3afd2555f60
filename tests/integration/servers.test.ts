import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoApp, type DemoApp } from '../../scripts/demo-app.js';
import {
  buildHealthFixture,
  generateHealthFixture,
  SPECIAL_LABEL_CASES,
  type HealthFixtureOptions,
} from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  startVictoriaMetrics,
  type InfluxV1Server,
  type StartedServer,
  type VictoriaMetricsServer,
} from '../../scripts/lib/servers.js';

const START_MS = 1_700_000_000_000;
const FIXTURE: HealthFixtureOptions = {
  startMs: START_MS,
  endMs: START_MS + 30 * 60_000,
  intervalMs: 15_000,
  instances: 2,
  specialLabels: true,
  nanEvery: 7,
};

interface PromMatrix {
  status: string;
  data: {
    resultType: string;
    result: { metric: Record<string, string>; values: [number, string][] }[];
  };
}

async function queryRange(
  prom: StartedServer,
  query: string,
  stepSeconds = 15,
): Promise<PromMatrix> {
  const params = new URLSearchParams({
    query,
    start: String(FIXTURE.startMs / 1000),
    end: String(FIXTURE.endMs / 1000),
    step: String(stepSeconds),
  });
  const res = await fetch(`${prom.url}/api/v1/query_range?${params.toString()}`);
  expect(res.status).toBe(200);
  return (await res.json()) as PromMatrix;
}

/** Prometheus' value strings: finite decimals, `NaN`, `+Inf`, `-Inf`. */
function promValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

describe('Prometheus backfilled from the health fixture', () => {
  let prom: StartedServer;
  beforeAll(async () => {
    prom = await startPrometheus({ openMetrics: generateHealthFixture(FIXTURE) });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('serves the fixture values of up through query_range', async () => {
    const body = await queryRange(prom, 'up');
    expect(body.status).toBe('success');
    const expected = buildHealthFixture(FIXTURE)
      .find((f) => f.name === 'up')!
      .series.map((s) => ({
        metric: { __name__: 'up', ...s.labels },
        values: s.samples.map((p) => [p.timestampMs / 1000, promValue(p.value)]),
      }));
    expect(body.data.result).toEqual(expected);
    expect(body.data.result[0]!.values.some(([, v]) => v === 'NaN')).toBe(true);
  });

  it('keeps every special label value byte for byte (empty value = label absent)', async () => {
    const body = await queryRange(prom, 'test_special_labels', 600);
    const byCase = new Map(body.data.result.map((s) => [s.metric.case, s.metric]));
    for (const c of SPECIAL_LABEL_CASES) {
      expect(byCase.get(c.case)?.text).toBe(c.text === '' ? undefined : c.text);
    }
    expect(byCase.get('reserved')).toMatchObject({ time: 't1', _field: 'f1', _measurement: 'm1' });
  });

  it('answers the health queries over counters and histograms', async () => {
    const rate = await queryRange(prom, 'rate(http_requests_total[5m])', 300);
    expect(rate.data.result).toHaveLength(2 * 2 * 4);
    const p95 = await queryRange(
      prom,
      'histogram_quantile(0.95, sum by (le, job, instance) (rate(http_request_duration_seconds_bucket[5m])))',
      300,
    );
    expect(p95.data.result).toHaveLength(2);
    for (const s of p95.data.result) {
      for (const [, v] of s.values) expect(Number(v)).toBeGreaterThan(0);
    }
  });
});

describe('Prometheus scraping the demo app', () => {
  let app: DemoApp;
  let prom: StartedServer;
  beforeAll(async () => {
    app = await startDemoApp();
    prom = await startPrometheus({
      scrapeTargets: [{ job: 'test-app', target: `127.0.0.1:${app.port}`, intervalSeconds: 1 }],
    });
  });
  afterAll(async () => {
    await prom?.stop();
    await app?.stop();
  });

  it('scrapes it as job="test-app"', async () => {
    let result: { metric: Record<string, string>; value: [number, string] }[] = [];
    for (let i = 0; i < 100 && result.length === 0; i++) {
      const res = await fetch(
        `${prom.url}/api/v1/query?query=${encodeURIComponent('up{job="test-app"}')}`,
      );
      result = ((await res.json()) as { data: { result: typeof result } }).data.result;
      if (result.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(result).toHaveLength(1);
    expect(result[0]!.metric.instance).toBe(`127.0.0.1:${app.port}`);
    expect(result[0]!.value[1]).toBe('1');
  });

  it('exposes the demo metrics with every method/status pre-created', async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toContain('http_requests_total{method="GET",status="503"}');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",method="POST",status="500"}',
    );
  });
});

describe('InfluxDB 1.x', () => {
  let influx: InfluxV1Server;
  beforeAll(async () => {
    influx = await startInfluxV1({ auth: { username: 'admin', password: `pa'ss"w\\rd` } });
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('creates a database and reads back a written point', async () => {
    await influx.createDatabase('health_metrics', { name: 'tier_30d', duration: '30d' });
    await influx.write('health_metrics,metric_type=a value=1 1700000000', {
      db: 'health_metrics',
      precision: 's',
    });
    const res = await influx.query('SELECT * FROM health_metrics', 'health_metrics', {
      epoch: 'ms',
    });
    expect(res.results[0]!.series).toEqual([
      {
        name: 'health_metrics',
        columns: ['time', 'metric_type', 'value'],
        values: [[1_700_000_000_000, 'a', 1]],
      },
    ]);
    const rps = await influx.query('SHOW RETENTION POLICIES ON health_metrics');
    expect(rps.results[0]!.series![0]!.values!.map((row) => row[0])).toEqual([
      'autogen',
      'tier_30d',
    ]);
  });

  it('throws on statement errors and rejects requests without credentials', async () => {
    await expect(influx.query('SELECT * FROM nowhere')).rejects.toThrow(/database name required/);
    const res = await fetch(`${influx.url}/query?q=SHOW+DATABASES`);
    expect(res.status).toBe(401);
    const ping = await fetch(`${influx.url}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toMatch(/^1\./);
  });
});

describe('VictoriaMetrics', () => {
  let vm: VictoriaMetricsServer;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    const dir = vm?.dataDir;
    await vm?.stop();
    if (dir) expect(existsSync(dir)).toBe(false);
  });

  it('accepts line protocol on /api/v2/write and exports it as <measurement>_<field>', async () => {
    const res = await fetch(`${vm.url}/api/v2/write?bucket=x&org=y&precision=s`, {
      method: 'POST',
      body: 'health_metrics,metric_type=a value=1 1700000000\n',
    });
    expect(res.status).toBe(204);
    await vm.flush();
    expect(await vm.exportSeries('{__name__=~"health_metrics.*"}')).toEqual([
      {
        metric: { __name__: 'health_metrics_value', metric_type: 'a' },
        values: [1],
        timestamps: [1_700_000_000_000],
      },
    ]);
  });

  it('labels /write?db= data with db', async () => {
    const res = await fetch(`${vm.url}/write?db=mydb&precision=s`, {
      method: 'POST',
      body: 'v1_check,metric_type=b value=2 1700000000\n',
    });
    expect(res.status).toBe(204);
    await vm.flush();
    expect(await vm.exportSeries('v1_check_value')).toEqual([
      {
        metric: { __name__: 'v1_check_value', db: 'mydb', metric_type: 'b' },
        values: [2],
        timestamps: [1_700_000_000_000],
      },
    ]);
  });
});
