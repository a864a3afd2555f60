import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Response bodies arrive as Buffers whose memory lies outside the JS heap. Once decoded they are
 * garbage, but their memory returns only when the young generation is collected, and V8 schedules
 * that collection by JS-heap allocation, not by Buffer bytes. promflux's pipeline now allocates
 * little on the JS heap per chunk, so tens of MB of read Buffers used to wait for a collection
 * (peak RSS grew with the length of a backfill). This asks for a young-generation collection
 * (a scavenge: 1–2 ms with promflux's small live set) each time `everyBytes` of response
 * bodies were read, which bounds that memory.
 */
export class YoungGarbageCollector {
  private pending = 0;

  constructor(
    private readonly everyBytes: number,
    // Looked up at the first collection, not at construction: start-up makes no vm context.
    private readonly collect: () => void = () => youngGenerationGc()?.(),
  ) {}

  /** Counts bytes that just became garbage; collects when the budget is reached. */
  add(bytes: number): void {
    this.pending += bytes;
    if (this.pending < this.everyBytes) return;
    this.pending = 0;
    this.collect();
  }
}

let cached: (() => void) | null | undefined;

/**
 * V8's `gc({ type: 'minor' })`, without exposing `gc` to promflux's own global scope: the flag
 * only affects contexts created after it is set, and the function is taken from a fresh one.
 * Undefined if the runtime refuses (then memory is left to V8's own schedule).
 */
export function youngGenerationGc(): (() => void) | undefined {
  if (cached === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
      cached = typeof gc === 'function' ? () => gc({ type: 'minor' }) : null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
