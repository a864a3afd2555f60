import type { QueryConfig, TierConfig, TransformConfig } from '../config/types.js';
import {
  carryConfigHash,
  type CarriedWindows,
  type CarryFallback,
  type CarryPosition,
  type TierCarry,
} from '../pipeline/tier-carry.js';
import type { CarryLookup } from './plan-carry.js';

type Kept = CarriedWindows & { configHash: string };

/**
 * The daemon's rollup carries, in memory only (a restart re-reads), by tier state key. A carry is
 * taken out when a run starts to feed it and put back only when that run finished without error
 * (TierCarry.keep): a run that fails or is abandoned leaves none, so points it fed are never fed
 * twice, and the tier re-reads from its acknowledged watermark.
 */
export class CarryBook implements CarryLookup {
  private readonly kept = new Map<string, Kept>();
  private readonly dropped = new Map<string, CarryFallback>();

  constructor(private transform: TransformConfig) {}

  get(key: string): CarryPosition | CarryFallback | undefined {
    return this.kept.get(key) ?? this.dropped.get(key);
  }

  configHash(query: QueryConfig, tier: TierConfig): string {
    return carryConfigHash(query, tier, this.transform);
  }

  /**
   * The carry for a run of the tier under `key`: continuing the kept one when the plan said
   * `carried`, else starting afresh; either way nothing is kept until the run keeps it.
   */
  take(key: string, query: QueryConfig, tier: TierConfig, carried: boolean): TierCarry {
    const from = carried ? this.kept.get(key) : undefined;
    this.kept.delete(key);
    this.dropped.set(key, 'failed_run');
    const configHash = this.configHash(query, tier);
    return {
      from,
      keep: (state) => {
        this.kept.set(key, { ...state, configHash });
        this.dropped.delete(key);
      },
    };
  }

  /** A new configuration: every carry is dropped (its tiers re-read once). */
  reload(transform: TransformConfig): void {
    this.transform = transform;
    for (const key of this.kept.keys()) this.dropped.set(key, 'config_reload');
    this.kept.clear();
  }

  /** Forgets the carries of keys no query's tier uses any more. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of [...this.kept.keys(), ...this.dropped.keys()]) {
      if (!keys.has(key)) {
        this.kept.delete(key);
        this.dropped.delete(key);
      }
    }
  }

  /** Series held per key (one open window state each): what the carries cost in memory. */
  seriesByKey(): Map<string, number> {
    return new Map([...this.kept].map(([key, c]) => [key, c.series.size]));
  }
}
