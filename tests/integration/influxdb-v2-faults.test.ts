/**
 * The InfluxDB 2.x fault matrix, on the in-process fake (tests/fakes/influxdb-v2-fake.ts), with
 * the daemon (`promflux run`, the built CLI) reading a real Prometheus: the one mode that keeps
 * watermarks (`--once` keeps none). One daemon lives through every fault in turn:
 *
 * | fault | expected |
 * |---|---|
 * | 401, 403, 404 bucket | the run fails at once (no retry), nothing dead-lettered, watermark holds |
 * | 413 | the batch is written in halves until it fits; every line lands |
 * | 422 partial write | the refused lines are dead-lettered, the others land, the watermark moves |
 * | 429, 503 + Retry-After | retried no sooner than Retry-After (measured at the fake) |
 * | 500, reset mid-request | retried; lands |
 * | slow answers | within the timeout: land; past it: the run fails, the watermark holds |
 *
 * After each fault the daemon catches up, and at every check every Prometheus point up to each
 * watermark is in the fake or in the dead-letter file: the watermark only ever covers data that
 * InfluxDB acknowledged (or refused for good).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { InfluxDbV2Fake, type RecordedRequest } from '../fakes/influxdb-v2-fake.js';
import { rawTierWatermarks } from '../support/health-daemon.js';
import { finiteSamples, prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, spawnPromflux, type PromfluxProcess } from '../support/promflux-cli.js';

const TOKEN = 'v2-faults-token-3Ws8';
const STEP_MS = 1000;
const FIXTURE_STEP_MS = 15_000;
// Data from 20 minutes ago to 10 minutes ahead: every cycle of the test finds points.
const FIXTURE_END = Math.floor(Date.now() / FIXTURE_STEP_MS) * FIXTURE_STEP_MS + 600_000;
const QUERIES: Record<string, string> = { availability: 'up', doubled: 'up * 2' };
/** Lines of this query and instance are refused in the 422 phase. */
const REFUSED = { query: 'doubled', instance: 'app-1:8080' };
const WAIT_MS = 30_000;
const TEST_TIMEOUT_MS = 120_000;
/** The 413 phase's body limit: about two lines, so a backlog must be split, a line never. */
const MAX_BODY_BYTES = 250;

/** One `--json` record of a query run. */
interface RunRecord {
  query: string;
  ok: boolean;
  start: string;
  end: string;
  error: string | null;
}

interface DeadLetter {
  line: string;
  error: string;
}

describe('InfluxDB 2.x fault matrix (fake) under the daemon: retry, split, dead-letter, error', () => {
  let dir: string;
  let prometheus: StartedServer;
  let fake: InfluxDbV2Fake;
  let daemon: PromfluxProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-v2-faults-'));
    [prometheus, fake] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_END - 1_800_000,
          endMs: FIXTURE_END,
          intervalMs: FIXTURE_STEP_MS,
          instances: 2,
        }),
      }),
      InfluxDbV2Fake.start({ token: TOKEN }),
    ]);
    const config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
${Object.entries(QUERIES)
  .map(([name, query]) => `    - { name: ${name}, query: "${query}", step: 1s }`)
  .join('\n')}
load:
  influxdb:
    url: "${fake.url}"
    api: v2
    token: "${TOKEN}"
    org: "promflux"
    bucket: "metrics"
    timeout: 1s
    retry: { max_attempts: 3, initial_delay: 100ms, max_delay: 200ms }
  dead_letter_path: "${join(dir, 'dead-letter.jsonl')}"
pipeline:
  interval_seconds: 1
  delay: 0s
  initial_lookback: 10s
  log_level: warn
  state_dir: "${join(dir, 'state')}"
server:
  listen: false
`,
    );
    daemon = spawnPromflux(['run', '--json'], { cwd: dir, env: { PROMFLUX_CONFIG: config } });
  });
  afterAll(async () => {
    if (daemon?.child.exitCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await Promise.allSettled([prometheus?.stop(), fake?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function runs(): RunRecord[] {
    return daemon
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as RunRecord);
  }

  async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await check())) {
      if (daemon.child.exitCode !== null) throw new Error(`daemon exited: ${daemon.stderr()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function watermarks(): Promise<Record<string, number>> {
    const text = await readFile(join(dir, 'state', 'watermarks.json'), 'utf8').catch(() => '');
    if (!text) return {};
    const { queries } = rawTierWatermarks(text);
    return Object.fromEntries(Object.entries(queries).map(([q, s]) => [q, s.watermarkMs]));
  }

  /** Until every query's watermark passes `afterMs` (the daemon caught up to then). */
  async function caughtUp(afterMs = Date.now()): Promise<void> {
    await waitFor('the watermarks', async () => {
      const w = await watermarks();
      return Object.keys(QUERIES).every((q) => (w[q] ?? 0) > afterMs);
    });
  }

  async function deadLetters(): Promise<DeadLetter[]> {
    const text = await readFile(join(dir, 'dead-letter.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DeadLetter);
  }

  /** `tags@time` of a line-protocol line or a stored point, in the data model's tags. */
  const keyOf = (tags: Record<string, string>, timeMs: number): string =>
    `${JSON.stringify(Object.entries(tags).sort())}@${timeMs}`;

  function lineKey(line: string): string {
    const [series, , time] = line.split(' ');
    const [, ...pairs] = series!.split(',');
    const tags = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
    // Whole-second steps go out with precision=s, others with ms.
    const t = Number(time);
    return keyOf(tags, t < 1e11 ? t * 1000 : t);
  }

  /**
   * Every point Prometheus has for each query from its first run up to its watermark is in the
   * fake or dead-lettered; returns how many points that is.
   */
  async function expectWatermarksCoverOnlyAcknowledged(): Promise<number> {
    const marks = await watermarks();
    const stored = new Set(
      fake.points().map((p) => keyOf(p.tags, Number(p.timestamp / 1_000_000n))),
    );
    const refused = new Set((await deadLetters()).map((d) => lineKey(d.line)));
    let covered = 0;
    for (const [name, query] of Object.entries(QUERIES)) {
      const first = runs().find((r) => r.query === name)!;
      const range = { startMs: Date.parse(first.start), endMs: marks[name]!, stepMs: STEP_MS };
      const missing: string[] = [];
      for (const block of await prometheusRange(prometheus.url, query, range)) {
        const tags = expectedTags(block.labels, name);
        for (const { timestampMs } of finiteSamples(block)) {
          const key = keyOf(tags, timestampMs);
          covered++;
          if (!stored.has(key) && !refused.has(key)) missing.push(key);
        }
      }
      expect(missing.slice(0, 3), `${name}: ${missing.length} points under the watermark`).toEqual(
        [],
      );
    }
    return covered;
  }

  /**
   * Injects a fault that fails whole runs, waits for `runsEach` failed runs of each query with
   * `error`, checks the watermarks stood still meanwhile and nothing was dead-lettered, then
   * lifts the fault and waits for the catch-up.
   */
  async function expectRunsFailWhileWatermarksHold(
    inject: () => void,
    lift: () => void,
    error: RegExp,
  ): Promise<RunRecord[]> {
    await caughtUp();
    const before = runs().length;
    const deadBefore = (await deadLetters()).length;
    const failedOf = (q: string): RunRecord[] =>
      runs()
        .slice(before)
        .filter((r) => r.query === q && !r.ok);
    inject();
    let held: Record<string, number> = {};
    try {
      await waitFor('a failed run of each query', () =>
        Object.keys(QUERIES).every((q) => failedOf(q).length >= 1),
      );
      held = await watermarks();
      await waitFor('two more failed runs', () =>
        Object.keys(QUERIES).every((q) => failedOf(q).length >= 3),
      );
      expect(await watermarks()).toEqual(held);
    } finally {
      lift();
    }
    await expectWatermarksCoverOnlyAcknowledged();
    await caughtUp();
    // Every run that failed (including one in flight when the fault was lifted) said why.
    const failed = runs()
      .slice(before)
      .filter((r) => !r.ok);
    for (const r of failed) expect(r.error, r.query).toMatch(error);
    expect((await deadLetters()).length).toBe(deadBefore);
    return failed;
  }

  /** Write requests from index `from` on. */
  const writesSince = (from: number): RecordedRequest[] => fake.writes().slice(from);

  it(
    '401, 403, 404 bucket: the run fails at once, nothing dead-lettered, the watermark holds',
    async () => {
      await caughtUp();
      const failures: [number, string, RegExp][] = [
        [401, 'unauthorized access', /authentication failed \(401\): unauthorized access/],
        [
          403,
          'insufficient permissions for write',
          /permission denied \(403\): insufficient permissions for write/,
        ],
      ];
      for (const [status, message, error] of failures) {
        const writesBefore = fake.writes().length;
        const failed = await expectRunsFailWhileWatermarksHold(
          () => fake.failNext(1e9, { status, body: JSON.stringify({ code: 'x', message }) }),
          () => fake.clearFailures(),
          error,
        );
        // Not retried: one refused request per failed run (one batch each), however many runs.
        const refused = writesSince(writesBefore).filter((w) => w.status === status);
        expect(refused.length, String(status)).toBe(failed.length);
      }
      // A real 404: the bucket is renamed away, then back.
      const bucket = fake.findBucket('metrics')!;
      const writesBefore = fake.writes().length;
      const failed = await expectRunsFailWhileWatermarksHold(
        () => (bucket.name = 'renamed-away'),
        () => (bucket.name = 'metrics'),
        /not found \(404\): bucket "metrics" not found/,
      );
      expect(writesSince(writesBefore).filter((w) => w.status === 404).length).toBe(failed.length);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '413: the batch is written in halves until it fits, and every line lands',
    async () => {
      // A backlog of a few seconds (a 401 meanwhile), then a body limit of about two lines.
      let writesBefore = 0;
      try {
        await expectRunsFailWhileWatermarksHold(
          () => fake.failNext(1e9, { status: 401 }),
          () => {
            writesBefore = fake.writes().length;
            fake.maxBodyBytes = MAX_BODY_BYTES;
            fake.clearFailures();
          },
          /401/,
        );
        const writes = writesSince(writesBefore);
        const tooLarge = writes.filter((w) => w.status === 413);
        expect(tooLarge.length).toBeGreaterThan(0);
        for (const w of tooLarge) expect(w.bodyBytes).toBeGreaterThan(MAX_BODY_BYTES);
        const accepted = writes.filter((x) => x.status === 204);
        expect(accepted.length).toBeGreaterThan(tooLarge.length);
        for (const w of accepted) expect(w.bodyBytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
        expect(daemon.stderr()).toMatch(
          /refused the request as too large \(413\); writing it in halves/,
        );
      } finally {
        fake.maxBodyBytes = 25_000_000;
      }
      expect(await deadLetters()).toEqual([]);
      await expectWatermarksCoverOnlyAcknowledged();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '422 partial write: the refused lines are dead-lettered, the rest land, the watermark moves',
    async () => {
      await caughtUp();
      const refused = (line: string): boolean =>
        line.includes(`metric_type=${REFUSED.query}`) &&
        line.includes(`instance=${REFUSED.instance}`);
      const from = Date.now();
      fake.setPartialWrite(refused);
      try {
        await waitFor('refused lines in the dead-letter file', async () => {
          return (await deadLetters()).length >= 3;
        });
        await caughtUp();
      } finally {
        fake.setPartialWrite(undefined);
      }
      const letters = await deadLetters();
      for (const d of letters) {
        expect(refused(d.line), d.line).toBe(true);
        expect(d.error).toMatch(/partial write: points rejected by the fake/);
      }
      // Each refused line is there once, and not in InfluxDB.
      const keys = letters.map((d) => lineKey(d.line));
      expect(new Set(keys).size).toBe(keys.length);
      const stored = new Set(
        fake.points().map((p) => keyOf(p.tags, Number(p.timestamp / 1_000_000n))),
      );
      for (const key of keys) expect(stored.has(key), key).toBe(false);
      // The runs succeeded (the other instance and query landed) and the watermarks passed them.
      const during = runs().filter((r) => Date.parse(r.end) >= from);
      expect(during.length).toBeGreaterThan(0);
      expect(during.filter((r) => !r.ok)).toEqual([]);
      await expectWatermarksCoverOnlyAcknowledged();
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    [429, 2],
    [503, 1],
  ])(
    '%i with Retry-After: %i s: the retry waits at least that long (measured at the fake)',
    async (status, seconds) => {
      await caughtUp();
      const writesBefore = fake.writes().length;
      fake.failNext(1, { status, retryAfter: seconds });
      await waitFor(`the retry of the ${status}`, () => {
        const writes = writesSince(writesBefore);
        const refused = writes.find((w) => w.status === status);
        return (
          refused !== undefined &&
          writes.some((w) => w.bodySha256 === refused.bodySha256 && w.status === 204)
        );
      });
      const writes = writesSince(writesBefore);
      const refused = writes.find((w) => w.status === status)!;
      const retry = writes.find((w) => w.bodySha256 === refused.bodySha256 && w.status === 204)!;
      const waitedMs = retry.atMs - refused.atMs;
      console.log(
        `${status} Retry-After ${seconds}: the retry came ${Math.round(waitedMs)} ms later`,
      );
      expect(waitedMs).toBeGreaterThanOrEqual(seconds * 1000);
      await caughtUp();
      await expectWatermarksCoverOnlyAcknowledged();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '500 and a reset mid-request: retried, no run fails',
    async () => {
      await caughtUp();
      let writesBefore = fake.writes().length;
      let runsBefore = runs().length;
      const failedRuns = (): RunRecord[] =>
        runs()
          .slice(runsBefore)
          .filter((r) => !r.ok);
      fake.failNext(1, { status: 500 });
      // The refused request, then the same body again, accepted.
      await waitFor('the retry after a 500', () => {
        const writes = writesSince(writesBefore);
        return writes.some(
          (w, i) =>
            w.status === 500 &&
            writes.slice(i + 1).some((r) => r.bodySha256 === w.bodySha256 && r.status === 204),
        );
      });
      await caughtUp();
      expect(failedRuns()).toEqual([]);

      // Reset once part of the body arrived (the fake cannot know the rest, so no body hash): the
      // write is retried, so no run fails and the watermarks move on.
      writesBefore = fake.writes().length;
      runsBefore = runs().length;
      fake.failNext(1, { status: 0, reset: true });
      await waitFor('the reset', () =>
        writesSince(writesBefore).some((w) => w.status === 0 && w.bodySha256 === ''),
      );
      await caughtUp(Date.now() + 1000);
      expect(failedRuns()).toEqual([]);
      await expectWatermarksCoverOnlyAcknowledged();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'slow answers: within the timeout they land; past it the run fails and the watermark holds',
    async () => {
      await caughtUp();
      fake.latencyMs = 300;
      const runsBefore = runs().length;
      try {
        await caughtUp(Date.now() + 2000);
      } finally {
        fake.latencyMs = 0;
      }
      expect(
        runs()
          .slice(runsBefore)
          .filter((r) => !r.ok),
      ).toEqual([]);

      await expectRunsFailWhileWatermarksHold(
        () => (fake.latencyMs = 1500),
        () => (fake.latencyMs = 0),
        /^Could not write \d+ line\(s\) of query "\w+" to influxdb: failed after 3 attempt\(s\); last error: No response from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/write within 1000 ms\.$/,
      );
      const covered = await expectWatermarksCoverOnlyAcknowledged();
      expect(covered).toBeGreaterThan(100);

      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      await expectWatermarksCoverOnlyAcknowledged();
      expect(daemon.stderr()).not.toContain(TOKEN);
    },
    TEST_TIMEOUT_MS,
  );
});
