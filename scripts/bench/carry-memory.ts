/**
 * What a carried rollup tier holds per series between daemon cycles (tier-carry.ts): the window
 * state and the series key as the rollup writer keeps them, measured over 200,000 series.
 * `node --expose-gc --import tsx scripts/bench/carry-memory.ts`.
 */
import { RollupSeries } from '../../src/transform/rollup.js';

const SERIES = 200_000;

function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('Run with node --expose-gc.');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + m.external;
}

function carried(withKeys: boolean): number {
  const shared = new Uint8Array(0);
  const before = used();
  const kept = new Map<string, RollupSeries<Uint8Array>>();
  for (let i = 0; i < SERIES; i++) {
    const text = `health_metrics,instance=host-${String(i).padStart(6, '0')}.example:9100,job=node,metric_type=cpu value=`;
    // The transformer's prefix (the line's start) and the key the writer keeps: all but ` value=`.
    const prefix = withKeys ? new Uint8Array(Buffer.from(text)) : shared;
    const key = withKeys ? prefix.subarray(0, prefix.length - 7) : shared;
    const s = new RollupSeries(key, 1_700_000_000_000, 300_000);
    Object.assign(s, { count: 3, sum: 1.5 + i, min: 0.1, max: 9.3 + i, first: 0.2, last: 1.1 });
    Object.assign(s, { prevMs: 1_700_000_060_000, prevValue: 1.1 + i });
    kept.set(withKeys ? text.slice(0, -7) : String(i), s);
  }
  const bytes = (used() - before) / SERIES;
  if (kept.size !== SERIES) throw new Error('lost series');
  return bytes;
}

console.log(`window state and map entry: ${carried(false).toFixed(0)} bytes per series`);
console.log(`with an 80-byte series key: ${carried(true).toFixed(0)} bytes per series`);
