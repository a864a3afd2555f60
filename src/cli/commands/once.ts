import type { Writable } from 'node:stream';
import type { PromfluxConfig } from '../../config/types.js';
import { formatDuration, toRfc3339 } from '../../core/time.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { QueryRunResult } from '../../pipeline/run-query.js';
import { tierRunsForRange } from '../../pipeline/tier-runs.js';
import type { CommonOptions } from '../common-options.js';
import type { CliIo } from '../io.js';
import { runPipeline } from '../run-pipeline.js';

/**
 * `promflux --once` and `promflux run --once`: one cycle over `[now - interval, now - delay]`,
 * keeping no watermark. An option of the root and of `run` rather than a subcommand of its own.
 */
export async function runOnce(io: CliIo, opts: CommonOptions): Promise<number> {
  const now = io.now();
  return runPipeline(io, opts, (config) => {
    const range = {
      startMs: now - config.pipeline.intervalSeconds * 1000,
      endMs: now - config.pipeline.delayMs,
    };
    return {
      queries: config.extract.queries,
      rangeFor: () => range,
      // Every tier from the one extraction: rollups get the whole windows the range holds.
      tierRunsFor: (q) => tierRunsForRange(q, config.load.tiers, range),
      failureHint: (q, r) =>
        '--once keeps no watermark, so nothing retries the rest: run ' +
        `\`promflux backfill --query ${q.name} --from ${toRfc3339(r.startMs)} --to ${toRfc3339(r.endMs)}\`` +
        ', or `promflux run`, which retries until it is written',
      explainResults: (pipeline, results, out) => explainEmptyRuns(pipeline, results, config, out),
    };
  });
}

/**
 * For each query that found no samples, one line saying why, as far as Prometheus can tell: the
 * series exist now but are younger than the range (its end is `delay` ago), or they exist not at all.
 */
async function explainEmptyRuns(
  pipeline: Pipeline,
  results: readonly QueryRunResult[],
  config: PromfluxConfig,
  out: Writable,
): Promise<void> {
  for (const r of results) {
    if (r.error !== undefined || r.samples > 0) continue;
    const query = config.extract.queries.find((q) => q.name === r.query);
    if (!query) continue;
    const nowMs = r.range.endMs + config.pipeline.delayMs;
    const series = await pipeline.client.countSeries(query.expr, nowMs);
    if (series === undefined) continue;
    const delay = formatDuration(config.pipeline.delayMs);
    out.write(
      series > 0
        ? `  note: ${r.query} has ${series} series now, but no sample before the range ended ` +
            `(${toRfc3339(r.range.endMs)}, pipeline.delay ${delay} ago): the data is newer than ` +
            'the range; run again later, or lower pipeline.delay.\n'
        : `  note: ${r.query} selects no series, in the range or now: check the query and that ` +
            'Prometheus scrapes its targets.\n',
    );
  }
}
