import { join } from 'node:path';

import type { PromfluxConfig, QueryConfig, ServerAuthConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { sleep } from '../core/retry.js';
import { toRfc3339 } from '../core/time.js';
import { ContinuousExporter } from '../pipeline/continuous-export.js';
import { openPipeline, runQueries, type Pipeline } from '../pipeline/pipeline.js';
import type { QueryRunResult } from '../pipeline/run-query.js';
import { startStatusServer, type StatusServer } from '../observe/http-server.js';
import { DaemonMetrics } from '../observe/metrics.js';
import { DaemonStatus } from '../observe/status.js';
import { TierBook } from '../observe/tier-book.js';
import { queryFingerprint, WatermarkStore } from '../state/watermark-store.js';
import { CarryBook } from './carry-book.js';
import { describeTiers, planCycle, queryWatermark } from './cycle-plan.js';
import { createSchedule } from './schedule.js';
import { ownsQuery } from './shard.js';

export interface DaemonOptions {
  config: PromfluxConfig;
  logger: Logger;
  /** The configuration's secrets, removed from the status endpoints and dead letters. */
  redactor: Redactor;
  /** Aborted on SIGTERM/SIGINT: no new cycle starts; the running one gets `shutdownGrace`. */
  stop: AbortSignal;
  /** Aborted on a second signal: abandon the running cycle at once. */
  kill?: AbortSignal;
  now?: () => number;
  /**
   * A newer, already validated config to switch to at the next cycle (SIGHUP), or undefined.
   * Queries, extract, transform, load and pipeline timing apply; `state_dir`, `shard` and
   * `server.listen` need a restart (a warning says so).
   */
  takeReload?: () => PromfluxConfig | undefined;
  /** Each query run of each cycle, for summaries. */
  onResult?: (result: QueryRunResult) => void;
}

/** Where the daemon keeps its watermarks, in `pipeline.state_dir` (one file per shard). */
export function watermarkPath(config: PromfluxConfig): string {
  const { index, count } = config.pipeline.shard;
  const name = count > 1 ? `watermarks-shard-${index}-of-${count}.json` : 'watermarks.json';
  return join(config.pipeline.stateDir, name);
}

/**
 * `promflux run`: a cycle every `interval_seconds`, never two at once (a slow cycle delays the next,
 * and is logged). Each cycle plans, per query, what each of its tiers writes from the tier's own
 * watermark (raw: the grid points up to `now - delay`; rollups: the windows due, see
 * planQueryTiers), extracts once for all of them, and each tier's watermark advances, durably,
 * only over what its sink acknowledged: a failed write leaves it in place and the next cycle
 * retries the same range.
 * On `stop`, the running cycle may finish within `shutdown_grace`, then it is abandoned; what was
 * acknowledged stays recorded.
 */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const { logger } = opts;
  let config = ownedQueriesOnly(opts.config, logger);
  const now = opts.now ?? Date.now;
  const store = await WatermarkStore.open(watermarkPath(config));
  const tiers = new TierBook();
  const metrics = new DaemonMetrics(now, tiers);
  const status = new DaemonStatus(
    config.extract.queries.map((q) => q.name),
    now,
    tiers,
  );
  for (const plan of describeTiers(config, store, now(), tiers)) {
    const watermarkMs = queryWatermark(plan);
    if (watermarkMs !== undefined) {
      metrics.setWatermark(plan.query.name, watermarkMs);
      status.recordWatermark(plan.query.name, watermarkMs);
    }
  }
  let server: StatusServer | undefined;
  if (config.server.listen !== false) {
    server = await startStatusServer(config.server.listen, {
      registry: metrics.registry,
      status,
      logger,
      redactor: opts.redactor,
      auth: config.server.auth,
    });
    logger.info({ url: server.url }, 'Serving /metrics, /healthz, /readyz, /status and /.');
  }

  const abandon = new AbortController();
  let graceTimer: NodeJS.Timeout | undefined;
  const onStop = (): void => {
    logger.info(
      { graceSeconds: config.pipeline.shutdownGraceMs / 1000 },
      'Stopping: the running cycle may finish within the shutdown grace.',
    );
    graceTimer = setTimeout(
      () => abandon.abort(new Error('shutdown grace elapsed')),
      config.pipeline.shutdownGraceMs,
    );
  };
  const onKill = (): void => abandon.abort(new Error('stopped at once'));
  opts.stop.addEventListener('abort', onStop, { once: true });
  opts.kill?.addEventListener('abort', onKill, { once: true });

  let pipeline: Pipeline | undefined;
  const exporter = new ContinuousExporter();
  const carries = new CarryBook(config.transform);
  let cycle = 0;
  let schedule = createSchedule(config.pipeline);
  logger.info(`Cycles run ${schedule.description}.`);
  try {
    if (config.pipeline.startJitterMs > 0) {
      await sleep(Math.random() * config.pipeline.startJitterMs, opts.stop).catch(() => undefined);
    }
    while (!opts.stop.aborted) {
      const reloaded = opts.takeReload?.();
      if (reloaded) {
        config = applyReload(config, reloaded, logger);
        carries.reload(config.transform);
        schedule.close();
        schedule = createSchedule(config.pipeline);
        await pipeline?.close(); // reopened with the new sink settings
        pipeline = undefined;
      }
      const startedMs = now();
      const nextStartMs = schedule.nextStartMs(startedMs);
      cycle++;
      try {
        pipeline ??= await openPipeline(config, logger, {
          observer: metrics.requestObserver,
          redactor: opts.redactor,
        });
        const ok = await runCycle(pipeline, store, {
          ...opts,
          config,
          now,
          signal: abandon.signal,
          cycle,
          metrics,
          status,
          tiers,
          carries,
        });
        const exported = await exporter.cycle(pipeline, store, {
          nowMs: now(),
          logger,
          signal: abandon.signal,
          stop: opts.stop,
          observer: metrics.exportObserver,
        });
        status.recordCycle(ok && exported);
      } catch (err) {
        logger.error({ cycle, err: describeError(err) }, 'Cycle failed; retrying next cycle.');
        if (pipeline === undefined)
          logger.warn('Could not open the sink; trying again next cycle.');
        status.recordCycle(false, err);
      }
      try {
        await store.flush();
      } catch (err) {
        logger.error({ err: describeError(err) }, 'Watermarks not saved.');
      }
      metrics.cycleDuration.observe((now() - startedMs) / 1000);
      const waitMs = nextStartMs - now();
      // A cycle cut short by a stop has no next one to be late for.
      if (waitMs < 0 && !opts.stop.aborted) {
        metrics.cycleOverruns.inc();
        logger.warn(
          { cycle, overrunSeconds: -waitMs / 1000 },
          'The cycle ran past the start of the next one, which starts now (late, not twice).',
        );
      }
      await sleep(Math.max(0, waitMs), opts.stop).catch(() => undefined);
    }
  } finally {
    clearTimeout(graceTimer);
    schedule.close();
    opts.stop.removeEventListener('abort', onStop);
    opts.kill?.removeEventListener('abort', onKill);
    await pipeline?.close();
    await server?.close();
    await store.flush();
  }
}

function applyReload(
  current: PromfluxConfig,
  next: PromfluxConfig,
  logger: Logger,
): PromfluxConfig {
  const fixed: string[] = [];
  if (next.pipeline.stateDir !== current.pipeline.stateDir) fixed.push('pipeline.state_dir');
  if (JSON.stringify(next.pipeline.shard) !== JSON.stringify(current.pipeline.shard)) {
    fixed.push('pipeline.shard');
  }
  if (next.server.listen !== current.server.listen) fixed.push('server.listen');
  if (!sameAuth(next.server.auth, current.server.auth)) fixed.push('server.auth');
  if (fixed.length > 0) {
    logger.warn(
      { keys: fixed },
      'These settings change only on restart; keeping the running ones.',
    );
  }
  const merged: PromfluxConfig = {
    ...next,
    pipeline: {
      ...next.pipeline,
      stateDir: current.pipeline.stateDir,
      shard: current.pipeline.shard,
    },
    server: current.server,
  };
  const config = ownedQueriesOnly(merged, logger);
  logger.info(
    { queries: config.extract.queries.map((q) => q.name) },
    'Configuration reloaded; it applies from this cycle on.',
  );
  return config;
}

/** The config with only the queries this replica owns (all of them without sharding). */
function ownedQueriesOnly(config: PromfluxConfig, logger: Logger): PromfluxConfig {
  const { shard } = config.pipeline;
  if (shard.count <= 1) return config;
  const queries = config.extract.queries.filter((q) => ownsQuery(q.name, shard));
  logger.info(
    { shard: `${shard.index}/${shard.count}`, queries: queries.map((q) => q.name) },
    `This replica owns ${queries.length} of ${config.extract.queries.length} queries.`,
  );
  return { ...config, extract: { ...config.extract, queries } };
}

interface CycleContext extends DaemonOptions {
  now: () => number;
  signal: AbortSignal;
  cycle: number;
  metrics: DaemonMetrics;
  status: DaemonStatus;
  tiers: TierBook;
  carries: CarryBook;
}

/** One cycle over every query; true when every query that was due ran to the end. */
async function runCycle(
  pipeline: Pipeline,
  store: WatermarkStore,
  ctx: CycleContext,
): Promise<boolean> {
  const { config, logger, metrics, status } = ctx;
  const plans = planCycle(config, store, ctx.now(), {
    logger,
    metrics,
    tiers: ctx.tiers,
    carries: ctx.carries,
  });
  const due = config.extract.queries.filter((q: QueryConfig) => plans.get(q.name)?.extraction);
  for (const query of config.extract.queries) {
    if (!plans.get(query.name)?.extraction) metrics.backlog.set({ query: query.name }, 0);
  }
  if (due.length === 0) return true;
  const planOf = (query: QueryConfig) => plans.get(query.name)!;
  // The figure start-up shows (the last acknowledged grid point of every tier), rather than
  // runQuery's resume point, which for a rollup tier lies a step earlier (the next window's
  // counter predecessor is re-read).
  const acknowledgedThrough = (query: QueryConfig) =>
    queryWatermark(planOf(query), (t) => store.get(t.key)?.watermarkMs);
  const recordWatermark = (query: QueryConfig, ms: number): void => {
    metrics.setWatermark(query.name, ms);
    status.recordWatermark(query.name, ms);
  };
  let ok = true;
  const results = await runQueries(pipeline, due, (q) => planOf(q).extraction!, {
    signal: ctx.signal,
    noNewQueries: ctx.stop,
    tierRunsFor: (query) => planOf(query).runs,
    carryFor: (query, run) => {
      const tierPlan = planOf(query).tiers.find((t) => t.tier.name === run.tier.name);
      if (!tierPlan || run.range.kind !== 'rollup' || !run.range.feed) return undefined;
      return ctx.carries.take(tierPlan.key, query, run.tier, tierPlan.carry === 'carried');
    },
    onTierAck: (query, tier, watermarkMs) => {
      const tierPlan = planOf(query).tiers.find((t) => t.tier.name === tier);
      if (!tierPlan) return;
      // Rewritten windows are acknowledged again: the watermark never moves back over them.
      const before = store.get(tierPlan.key)?.watermarkMs;
      if (before !== undefined && before >= watermarkMs) return;
      store.set(tierPlan.key, { watermarkMs, fingerprint: queryFingerprint(query) });
      ctx.tiers.recordWatermark(query.name, tier, watermarkMs);
      const through = acknowledgedThrough(query);
      if (through !== undefined) recordWatermark(query, through);
    },
    onAck: (query, resumeFromMs) => {
      // Until every tier has a watermark, runQuery's resume point is the best figure there is.
      if (acknowledgedThrough(query) === undefined) recordWatermark(query, resumeFromMs);
    },
    onResult: (result) => {
      metrics.recordQueryRun(result);
      metrics.recordTierTotals(result.query, result.tiers);
      status.recordRun(result);
      if (result.error !== undefined) ok = false;
      const doneThrough = result.ackedThroughMs ?? result.range.startMs;
      metrics.backlog.set(
        { query: result.query },
        Math.max(0, result.range.endMs - doneThrough) / 1000,
      );
      logger.info(
        {
          cycle: ctx.cycle,
          query: result.query,
          ok: result.error === undefined,
          from: toRfc3339(result.range.startMs),
          to: toRfc3339(result.range.endMs),
          samples: result.samples,
          points: result.points,
          ackedThrough:
            result.ackedThroughMs === undefined ? null : toRfc3339(result.ackedThroughMs),
          tiers: Object.fromEntries(
            Object.entries(result.tiers).map(([tier, t]) => [
              tier,
              {
                written: t.written,
                watermark: t.watermarkMs === undefined ? null : toRfc3339(t.watermarkMs),
              },
            ]),
          ),
        },
        'Query run finished.',
      );
      ctx.onResult?.(result);
    },
  });
  if (results.length < due.length) {
    ok = false;
    logger.info(
      { cycle: ctx.cycle, notStarted: due.slice(results.length).map((q) => q.name) },
      'Stopping: the rest of the cycle was not started; it runs after the next start.',
    );
  }
  return ok;
}

/** Compared without logging or keeping either: both hold secrets. */
function sameAuth(a: ServerAuthConfig | undefined, b: ServerAuthConfig | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
