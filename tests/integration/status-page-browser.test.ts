/**
 * The daemon's status page (`/`) in a real headless Chromium: the in-process status server over a
 * DaemonStatus on a fixed clock, read through the DOM as a user sees it. The page must show one
 * row per query with its tiers, show HTML in names and errors as text without running it, refresh itself when
 * the status changes, and log no error nor fail any request on the way.
 */
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../src/core/errors.js';
import { startStatusServer, type StatusServer } from '../../src/observe/http-server.js';
import { DaemonMetrics } from '../../src/observe/metrics.js';
import { DaemonStatus } from '../../src/observe/status.js';
import { TierBook, type TierView } from '../../src/observe/tier-book.js';
import { queryRun } from '../support/query-run.js';
import type { QueryRunResult } from '../../src/pipeline/run-query.js';
import { launchChromium } from './chromium.js';
import { Redactor } from '../../src/core/redact.js';

const START_MS = Date.parse('2026-03-01T12:00:00.000Z');
const QUERY_XSS = '<img src=x onerror=window.__pwned=1>';
const ERROR_XSS = 'influx down: <script>window.__pwned=1</script> & "quoted"';
const ERROR_BOLD = 'query rejected: <b>bad</b> expression';
/** The page refreshes every 5 s; allow for a slow reload on a busy machine. */
const REFRESH_TIMEOUT_MS = 20_000;
const TIER_XSS = '<b>cold</b>';
const HEADERS = ['query', 'last run', 'watermark', 'lag', 'points written', 'tiers', 'last error'];
const HOT: TierView = { name: 'hot', resolutionMs: undefined, stepMs: 15_000, holdBackMs: 60_000 };
const WARM: TierView = { name: 'warm', resolutionMs: 300_000, stepMs: 15_000, holdBackMs: 60_000 };

const run = (query: string, written: number, error?: unknown): QueryRunResult =>
  queryRun(query, written, error);

interface PageView {
  title: string;
  readiness: string;
  summary: string;
  headers: string[];
  /** Every body row's cells as rendered text (`innerText`), in page order. */
  rows: string[][];
  /** The first cell of every row marked failing. */
  failing: string[];
}

/**
 * What the user sees, read through the DOM. Callers poll it: the page reloads itself every 5 s and
 * a read that straddles a reload only fails that attempt.
 */
async function readPage(page: Page): Promise<PageView> {
  const rows = await page.locator('table tbody tr').all();
  return {
    title: await page.title(),
    readiness: await page.locator('#readiness').innerText(),
    summary: await page.locator('p', { hasText: 'Started' }).innerText(),
    headers: await page.locator('table thead th').allInnerTexts(),
    rows: await Promise.all(rows.map((row) => row.locator('td').allInnerTexts())),
    failing: await page.locator('table tbody tr.failing td:first-child').allInnerTexts(),
  };
}

/**
 * `window.__pwned`, set by any injected markup that manages to run. Retried when the page's own
 * refresh destroys the document mid-evaluation.
 */
async function pwned(page: Page): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);
    } catch (err) {
      if (attempt === 3 || !/context was destroyed|navigat/i.test(String(err))) throw err;
      await page.waitForLoadState('load');
    }
  }
}

describe('status page in headless Chromium', () => {
  let nowMs = START_MS;
  const tiers = new TierBook();
  const status = new DaemonStatus(['availability', 'request_rate', QUERY_XSS], () => nowMs, tiers);
  const metrics = new DaemonMetrics(() => nowMs, tiers);
  let server: StatusServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  /** Everything that went wrong in the page: console errors, page errors, failed requests. */
  const problems: string[] = [];
  let loads = 0;
  /** Set when the setup failed: every test then fails with its error instead of being skipped. */
  let setupFailure: { error: unknown } | undefined;

  function requireSetup(): void {
    if (setupFailure) throw setupFailure.error;
  }

  async function setUp(): Promise<void> {
    status.recordWatermark('availability', nowMs - 90_000);
    tiers.describe('availability', [
      { view: HOT, watermarkMs: nowMs - 90_000 },
      { view: WARM, watermarkMs: undefined },
    ]);
    tiers.describe(QUERY_XSS, [{ view: { ...WARM, name: TIER_XSS }, watermarkMs: undefined }]);
    status.recordRun(run('availability', 1234));
    status.recordWatermark('request_rate', nowMs - 3 * 3_600_000);
    status.recordRun(run('request_rate', 0, new SinkError('SINK_WRITE_FAILED', ERROR_XSS, 503)));
    status.recordRun(run(QUERY_XSS, 0, new Error(ERROR_BOLD)));
    status.recordCycle(false);
    server = await startStatusServer('127.0.0.1:0', {
      registry: metrics.registry,
      status,
      logger: pino({ level: 'silent' }),
      redactor: Redactor.none(),
    });
    const origin = server.url;

    browser = await launchChromium();
    context = await browser.newContext();
    // Only the status server may be asked for anything; any other request is refused and reported.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      problems.push(`request outside the status server: ${url}`);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') {
        problems.push(`console error: ${message.text()} (${message.location().url})`);
      }
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (request) =>
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
    );
    page.on('response', (response) => {
      if (response.status() >= 400) {
        problems.push(`HTTP ${response.status()} for ${response.url()}`);
      }
    });
    page.on('load', () => loads++);
    const response = await page.goto(`${origin}/`, { waitUntil: 'load' });
    if (response?.status() !== 200) throw new Error(`GET / answered ${response?.status()}`);
  }

  // Chromium's cold start on a busy two-core machine can take several seconds.
  beforeAll(async () => {
    await setUp().catch((error: unknown) => {
      setupFailure = { error };
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows one row per query: name, last run, watermark, lag, points written, tiers, last error', async () => {
    requireSetup();
    await expect
      .poll(() => readPage(page), { timeout: REFRESH_TIMEOUT_MS })
      .toEqual({
        title: 'promflux status',
        readiness: `Not ready: the last cycle failed for request_rate, ${QUERY_XSS}`,
        summary: 'Started 2026-03-01T12:00:00.000Z; 1 cycle. metrics · status JSON',
        headers: HEADERS,
        rows: [
          [
            'availability',
            '2026-03-01T12:00:00.000Z',
            '2026-03-01T11:58:30.000Z',
            '90 s',
            '1234',
            'hot (raw): 2026-03-01T11:58:30.000Z, lag 30 s\nwarm (5m): —, lag —',
            '',
          ],
          [
            'request_rate',
            '2026-03-01T12:00:00.000Z',
            '2026-03-01T09:00:00.000Z',
            '3.0 h',
            '0',
            '',
            ERROR_XSS,
          ],
          [
            QUERY_XSS,
            '2026-03-01T12:00:00.000Z',
            '—',
            '—',
            '0',
            `${TIER_XSS} (5m): —, lag —`,
            ERROR_BOLD,
          ],
        ],
        failing: ['request_rate', QUERY_XSS],
      });
    expect(problems).toEqual([]);
  });

  it('shows HTML in query names and errors as text and never runs it', async () => {
    requireSetup();
    expect(await pwned(page), 'markup from the status data ran in the page').toBeUndefined();
    // Nothing of the injected markup became an element, in the table or in the readiness line...
    await expect
      .poll(async () => ({
        injected: await page.locator('body img, body script, body b').count(),
        readiness: await page.locator('#readiness').innerText(),
      }))
      .toEqual({ injected: 0, readiness: expect.stringContaining(QUERY_XSS) as unknown });
    // ...and the user sees it as the literal text it is.
    for (const text of [QUERY_XSS, ERROR_XSS, ERROR_BOLD]) {
      await page
        .getByRole('cell', { name: text, exact: true })
        .waitFor({ state: 'visible', timeout: REFRESH_TIMEOUT_MS });
    }
    expect(problems).toEqual([]);
  });

  it('refreshes itself and shows the new status without being reloaded', async () => {
    requireSetup();
    const loadsBefore = loads;
    nowMs += 60_000;
    status.recordWatermark('availability', nowMs - 30_000);
    tiers.recordWatermark('availability', 'hot', nowMs - 60_000);
    tiers.recordWatermark('availability', 'warm', nowMs - 60_000);
    status.recordRun(run('availability', 66));
    status.recordWatermark('request_rate', nowMs - 45_000);
    status.recordRun(run('request_rate', 500));
    status.recordCycle(false);

    await expect
      .poll(() => readPage(page), { timeout: REFRESH_TIMEOUT_MS, interval: 250 })
      .toEqual({
        title: 'promflux status',
        readiness: `Not ready: the last cycle failed for ${QUERY_XSS}`,
        summary: 'Started 2026-03-01T12:00:00.000Z; 2 cycles. metrics · status JSON',
        headers: HEADERS,
        rows: [
          [
            'availability',
            '2026-03-01T12:01:00.000Z',
            '2026-03-01T12:00:30.000Z',
            '30 s',
            '1300',
            'hot (raw): 2026-03-01T12:00:00.000Z, lag 0 s\nwarm (5m): 2026-03-01T12:00:00.000Z, lag 0 s',
            '',
          ],
          [
            'request_rate',
            '2026-03-01T12:01:00.000Z',
            '2026-03-01T12:00:15.000Z',
            '45 s',
            '500',
            '',
            '',
          ],
          [
            QUERY_XSS,
            '2026-03-01T12:00:00.000Z',
            '—',
            '—',
            '0',
            `${TIER_XSS} (5m): —, lag —`,
            ERROR_BOLD,
          ],
        ],
        failing: [QUERY_XSS],
      });
    // The page reloaded itself (the test never did) and stayed on /.
    expect(loads).toBeGreaterThan(loadsBefore);
    expect(page.url()).toBe(`${server!.url}/`);
    expect(await pwned(page), 'markup from the status data ran in the page').toBeUndefined();
    expect(problems).toEqual([]);
  });
});
