import { mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';

/**
 * The chaos test's seed: fixed by default (the fast-check-seed convention: one seed, reproducible
 * everywhere), another with PROMFLUX_CHAOS_SEED=<integer> to explore or to replay a failure.
 */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const seed = Number(env['PROMFLUX_CHAOS_SEED'] ?? 20261201);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`PROMFLUX_CHAOS_SEED must be an integer, not ${env['PROMFLUX_CHAOS_SEED']}`);
  }
  return seed;
}

/**
 * When a process is SIGKILLed:
 * - `write`: at its `n`th InfluxDB write (1-based) to retention policy `rp` (any when undefined),
 *   as the request reaches InfluxDB (`sent`: mid-write) or right after InfluxDB answered it
 *   (`answered`: written, not yet recorded in the watermark; with `rp` the first tier's, before the
 *   next tier's write: between tiers);
 * - `log`: right after its `n`th log line with message `msg`;
 * - `timer`: `ms` after it was started (at start-up, mid-cycle, mid-export: wherever it is).
 */
export type KillTrigger =
  | { kind: 'write'; n: number; phase: 'sent' | 'answered'; rp?: string }
  | { kind: 'log'; n: number; msg: string }
  | { kind: 'timer'; ms: number };

/** One daemon run of the chaos: what kills it, and whether the export cutoff moves an hour first. */
export interface ChaosRound {
  trigger: KillTrigger;
  moveCutoff: boolean;
}

export function describeTrigger(t: KillTrigger): string {
  switch (t.kind) {
    case 'write':
      return `write #${t.n} ${t.phase}${t.rp === undefined ? '' : ` to rp ${t.rp}`}`;
    case 'log':
      return `log line #${t.n} "${t.msg}"`;
    case 'timer':
      return `${t.ms} ms after start`;
  }
}

/**
 * `rounds` seeded daemon runs. `logMessages` are the log lines worth dying after in any run;
 * `exportMessage` the one logged after each exported hour, a trigger only in a run the cutoff moved
 * in; `rps` the retention policies a write can go to; `cutoffMoves` how often the export cutoff
 * moves an hour on (spread over the rounds, so hours are exported in killed runs).
 */
export function chaosRounds(
  seed: number,
  opts: {
    rounds: number;
    logMessages: readonly string[];
    exportMessage?: string;
    rps: readonly string[];
    cutoffMoves: number;
  },
): ChaosRound[] {
  const random = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rounds: ChaosRound[] = [];
  let moves = 0;
  for (let i = 0; i < opts.rounds; i++) {
    const moveCutoff =
      moves < opts.cutoffMoves && random() < (opts.cutoffMoves - moves) / (opts.rounds - i);
    if (moveCutoff) moves++;
    const roll = random();
    let trigger: KillTrigger;
    if (moveCutoff && opts.exportMessage !== undefined && roll < 0.5) {
      // An hour is due: die after the first query's file, before the second's.
      trigger = { kind: 'log', n: 1, msg: opts.exportMessage };
    } else if (roll < 0.6) {
      const rp = opts.rps.length > 1 && random() < 0.5 ? pick(opts.rps) : undefined;
      trigger = { kind: 'write', n: int(1, 6), phase: random() < 0.5 ? 'sent' : 'answered', rp };
    } else if (roll < 0.8 && opts.logMessages.length > 0) {
      trigger = { kind: 'log', n: int(1, 3), msg: pick(opts.logMessages) };
    } else {
      trigger = { kind: 'timer', ms: int(200, 2500) };
    }
    rounds.push({ trigger, moveCutoff });
  }
  return rounds;
}

/**
 * The kills of the one-shot commands: `backfill` at a seeded InfluxDB write, `export` after its
 * `n`th progress line (`progressMessage`; lines come every `--progress-interval`, so mid-write).
 */
export function oneShotKills(
  seed: number,
  progressMessage: string,
): { backfill: KillTrigger; export: KillTrigger } {
  const random = mulberry32(seed ^ 0x5eed);
  return {
    backfill: {
      kind: 'write',
      n: 1 + Math.floor(random() * 8),
      phase: random() < 0.5 ? 'sent' : 'answered',
    },
    // The first or second line: a fast export (well under a second) logs only a few.
    export: { kind: 'log', n: 1 + Math.floor(random() * 2), msg: progressMessage },
  };
}
