import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeWindows, gridCoverage, nextEmission } from '../../../src/pipeline/windows.js';
import {
  T0,
  byStart,
  reference,
  rollUp,
  seriesArb,
  type Window,
} from '../transform/rollup-helpers.js';

const STEP = 60_000;
const SPAN = 4 * 3_600_000;

/**
 * The window primitive and the accumulator together, as a daemon would run them: each cycle plans
 * its windows from the tier's watermark, extracts from one step before them, and rolls them up
 * afresh (as after a restart). Whatever the cycle timing, lateness and rewriting, the tier ends up
 * with every window once, equal to the reference over the whole span.
 */
describe('tier cycles', () => {
  for (const kind of ['gauge', 'counter'] as const) {
    it(`${kind}: cycles planned by nextEmission emit every window once, as the reference`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(300_000, 900_000),
          fc.array(seriesArb(kind, false, SPAN / STEP, STEP, T0), { minLength: 1, maxLength: 3 }),
          fc.array(fc.integer({ min: 0, max: 2_400_000 }), { minLength: 1, maxLength: 12 }),
          fc.constantFrom(0, 120_000),
          fc.integer({ min: 0, max: 2 }),
          (resolutionMs, series, advances, latenessMs, rewriteWindows) => {
            const settings = {
              delayMs: 60_000,
              latenessMs,
              stepMs: STEP,
              resolutionMs,
              rewriteWindows,
              initialLookbackMs: 1_800_000,
              maxCatchupMs: SPAN,
            };
            let nowMs = T0 + 2_400_000 + 7_000;
            let watermarkMs: number | undefined;
            let firstMs: number | undefined;
            const tier = new Map<string, Window>();
            for (const advance of advances) {
              nowMs = Math.min(nowMs + advance, T0 + SPAN);
              const plan = nextEmission({ ...settings, nowMs, watermarkMs });
              if (!plan) continue;
              const { windows, extract } = plan;
              const cutoffMs = nowMs - settings.delayMs - latenessMs;
              expect(
                completeWindows(gridCoverage(extract, STEP)!, cutoffMs, STEP, resolutionMs),
              ).toEqual(windows);
              const run = { kind, stepMs: STEP, resolutionMs, ...windows, cuts: [] };
              for (const w of rollUp(run, series)) {
                const key = `${w.series}@${w.startMs}`;
                const before = tier.get(key);
                if (before) expect(w).toEqual(before);
                tier.set(key, w);
              }
              firstMs ??= windows.fromMs;
              watermarkMs = windows.toMs;
            }
            if (firstMs === undefined || watermarkMs === undefined) return;
            expect([...tier.values()].sort(byStart)).toEqual(
              reference(kind, STEP, resolutionMs, firstMs, watermarkMs, series),
            );
          },
        ),
        { seed: 1717, numRuns: 100 },
      );
    });
  }
});
