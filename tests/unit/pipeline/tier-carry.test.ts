import { describe, expect, it } from 'vitest';
import type { QueryConfig, TierConfig, TransformConfig } from '../../../src/config/types.js';
import { CarryBook } from '../../../src/daemon/carry-book.js';
import {
  checkCarry,
  pruneCarried,
  type CarryCheck,
  type CarryPosition,
} from '../../../src/pipeline/tier-carry.js';
import { RollupSeries } from '../../../src/transform/rollup.js';

const kept: CarryPosition = { configHash: 'h', watermarkMs: 600_000, coveredToMs: 660_000 };
const base: CarryCheck = {
  kept,
  configHash: 'h',
  watermarkMs: 600_000,
  latenessMs: 0,
  rewriteWindows: 0,
  earliestMs: 0,
};

describe('checkCarry', () => {
  it('continues a carry only where it ended, else names the reason', () => {
    expect(checkCarry(base)).toBe(kept);
    const cases: [Partial<CarryCheck>, string][] = [
      [{ latenessMs: 1 }, 'lateness'],
      [{ rewriteWindows: 1 }, 'rewrite_windows'],
      [{ kept: undefined }, 'no_carry'],
      [{ kept: 'failed_run' }, 'failed_run'],
      [{ configHash: 'other' }, 'config_reload'],
      [{ watermarkMs: 300_000 }, 'discontinuous'],
      [{ watermarkMs: undefined }, 'discontinuous'],
      [{ earliestMs: 720_000 }, 'max_catchup'],
    ];
    for (const [change, reason] of cases) expect(checkCarry({ ...base, ...change })).toBe(reason);
  });
});

describe('pruneCarried', () => {
  it('keeps open windows and possible counter predecessors only', () => {
    const series = new Map<string, RollupSeries<Uint8Array>>();
    const make = (count: number, prevMs: number) => {
      const s = new RollupSeries(new Uint8Array(0), 600_000, 300_000);
      s.count = count;
      s.prevMs = prevMs;
      return s;
    };
    series.set('open', make(2, 540_000));
    series.set('predecessor', make(0, 600_000));
    series.set('gone', make(0, 540_000));
    pruneCarried(series, 660_000, 60_000);
    expect([...series.keys()]).toEqual(['open', 'predecessor']);
  });
});

describe('CarryBook', () => {
  const query: QueryConfig = { name: 'q', expr: 'up', stepMs: 60_000, tags: {} };
  const tier: TierConfig = { name: 'warm', bucket: 'b', retentionMs: 0, resolutionMs: 300_000 };
  const transform = { measurement: 'm' } as TransformConfig;
  const state = { series: new Map(), watermarkMs: 600_000, coveredToMs: 660_000 };

  it('holds a carry only from a run that kept it, until a reload', () => {
    const book = new CarryBook(transform);
    expect(book.get('k')).toBeUndefined();
    const first = book.take('k', query, tier, false);
    expect(first.from).toBeUndefined();
    // Taken and not (yet) kept: a run that fails leaves none.
    expect(book.get('k')).toBe('failed_run');
    first.keep(state);
    expect(book.get('k')).toMatchObject({ ...state, configHash: book.configHash(query, tier) });
    const second = book.take('k', query, tier, true);
    expect(second.from).toMatchObject(state);
    second.keep(state);
    book.reload({ measurement: 'other' } as TransformConfig);
    expect(book.get('k')).toBe('config_reload');
    expect(book.configHash(query, tier)).not.toBe(new CarryBook(transform).configHash(query, tier));
    book.retain(new Set());
    expect(book.get('k')).toBeUndefined();
  });
});
