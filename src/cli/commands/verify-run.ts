import type { Writable } from 'node:stream';
import type { KindDecision } from '../../core/metric-kind.js';
import { redactedStream } from '../../core/redact.js';
import { parseHalfOpenRange, toRfc3339 } from '../../core/time.js';
import { openStoredSeriesReader } from '../../extract/influxdb/index.js';
import { resolveQueryKinds } from '../../extract/metric-metadata.js';
import { createPrometheusClient } from '../../pipeline/pipeline.js';
import {
  planChecks,
  verifyChecks,
  type SkippedCheck,
  type VerifyCheck,
  type VerifyResult,
} from '../../pipeline/verify.js';
import { StoredTierContents } from '../../pipeline/verify-stored.js';
import { formatDifference, type WindowDifference } from '../../pipeline/verify-windows.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadConfig } from '../load-config.js';
import { runLogger } from '../run-logger.js';
import { selectQueries, selectTiers } from '../select-queries.js';
import { interruptOnStopSignals, signalExitCode } from '../signals.js';
import type { VerifyOptions } from './verify.js';

/** Differing windows listed per check in the text report (`--json` lists them all). */
const LISTED_DIFFERENCES = 20;

/** The action of `promflux verify` (./verify.ts), loaded only when it runs. */
export async function runVerify(io: CliIo, opts: VerifyOptions): Promise<number> {
  const now = io.now();
  const { fromMs, toMs } = parseHalfOpenRange(opts.from, opts.to, now);
  const { config, warnings, redactor } = await loadConfig(io, opts.config);
  const queries = selectQueries(config, opts.query);
  const tiers = selectTiers(config, opts.tier);
  const logger = runLogger(config, warnings, redactor);
  const out = redactedStream(io.stdout, redactor);
  // InfluxQL on 1.x, Flux on 2.x: `api: auto` asks /ping, as the sink does.
  const reader = await openStoredSeriesReader(config.load.influxdb, {
    redact: (text) => redactor.redact(text),
    buckets: tiers.map((t) => t.bucket),
  });
  const client = createPrometheusClient(config.extract, config.extract.retry, { logger });
  const interruption = interruptOnStopSignals(logger);
  try {
    const rollups = tiers.some((t) => t.resolutionMs !== undefined);
    const kinds = rollups
      ? await resolveQueryKinds(client, queries, logger)
      : new Map<string, KindDecision>();
    const { checks, skipped } = planChecks({
      queries,
      tiers,
      range: { fromMs, toMs },
      nowMs: now,
      delayMs: config.pipeline.delayMs,
      latenessMs: config.pipeline.latenessMs,
      kindOf: (q) => kinds.get(q.name)?.kind ?? 'gauge',
    });
    const results = await verifyChecks(checks, {
      client,
      contents: new StoredTierContents(reader, config.transform),
      config,
      logger,
      signal: interruption.signal,
    });
    const signalled = interruption.received();
    if (signalled) return signalExitCode(signalled);
    if (opts.json) writeJson(out, results, skipped);
    else writeText(out, results, skipped);
    if (results.some((r) => r.error !== undefined)) return EXIT.FAILURE;
    return results.some((r) => r.comparison!.differences.length > 0) ? EXIT.DIFFERS : EXIT.OK;
  } finally {
    interruption.off();
    client.close();
    await reader.close();
  }
}

function label(check: VerifyCheck | SkippedCheck): string {
  return `tier ${check.tier.name}, query ${check.query.name}`;
}

function checkedRange(check: VerifyCheck): { fromMs: number; toMs: number } {
  return check.kind === 'raw'
    ? { fromMs: check.points.startMs, toMs: check.points.endMs + check.query.stepMs }
    : check.windows;
}

function windowText(check: VerifyCheck): string {
  const minutes = check.windowMs / 60_000;
  return `${check.kind === 'raw' ? 'raw' : check.kind} windows of ${minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`}`;
}

function writeText(
  out: Writable,
  results: readonly VerifyResult[],
  skipped: readonly SkippedCheck[],
): void {
  for (const { check, comparison, error } of results) {
    const range = checkedRange(check);
    const span = `${toRfc3339(range.fromMs)} .. ${toRfc3339(range.toMs)}`;
    if (error !== undefined) {
      out.write(`FAIL ${label(check)}: ${error}\n`);
      continue;
    }
    const { windows, differences } = comparison!;
    if (differences.length === 0) {
      out.write(`ok   ${label(check)}: ${windows} ${windowText(check)} agree (${span})\n`);
      continue;
    }
    const differing = new Set(differences.map((d) => d.startMs)).size;
    out.write(
      `DIFF ${label(check)}: ${differing} of ${windows} ${windowText(check)} differ (${span}):\n`,
    );
    for (const d of differences.slice(0, LISTED_DIFFERENCES)) {
      out.write(`       ${formatDifference(d)}\n`);
    }
    if (differences.length > LISTED_DIFFERENCES) {
      out.write(
        `       ... and ${differences.length - LISTED_DIFFERENCES} more (--json lists all)\n`,
      );
    }
    out.write(`       to rewrite them: ${backfillHint(check, differences)}\n`);
  }
  for (const s of skipped) out.write(`skip ${label(s)}: ${s.reason}\n`);
}

/** The backfill that rewrites the differing windows (`--fresh`: an earlier run's progress would skip them). */
function backfillHint(check: VerifyCheck, differences: readonly WindowDifference[]): string {
  const from = Math.min(...differences.map((d) => d.startMs));
  const to = Math.max(...differences.map((d) => d.endMs));
  return `promflux backfill --fresh --from ${toRfc3339(from)} --to ${toRfc3339(to)} --query ${check.query.name}`;
}

function writeJson(
  out: Writable,
  results: readonly VerifyResult[],
  skipped: readonly SkippedCheck[],
): void {
  for (const { check, comparison, error } of results) {
    const range = checkedRange(check);
    const differences = comparison?.differences ?? [];
    out.write(
      `${JSON.stringify({
        tier: check.tier.name,
        query: check.query.name,
        kind: check.kind,
        from: toRfc3339(range.fromMs),
        to: toRfc3339(range.toMs),
        window_seconds: check.windowMs / 1000,
        status: error !== undefined ? 'failed' : differences.length > 0 ? 'differs' : 'ok',
        ...(error !== undefined && { error }),
        ...(comparison && {
          windows: comparison.windows,
          series_windows: comparison.seriesWindows,
          differing_windows: new Set(differences.map((d) => d.startMs)).size,
          differences: differences.map((d) => ({
            start: toRfc3339(d.startMs),
            end: toRfc3339(d.endMs),
            tags: Object.fromEntries(d.tags),
            fields: d.fields.map((f) => ({
              field: f.field,
              expected: f.expected ?? null,
              found: f.found ?? null,
            })),
          })),
        }),
      })}\n`,
    );
  }
  for (const s of skipped) {
    out.write(
      `${JSON.stringify({ tier: s.tier.name, query: s.query.name, status: 'skipped', reason: s.reason })}\n`,
    );
  }
}
