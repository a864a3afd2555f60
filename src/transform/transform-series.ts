import type { QueryConfig, TransformConfig } from '../config/types.js';
import type { DropCounts, Labels, SeriesBlock } from '../core/series.js';
import { dropInvalidSamples, type CleanLimits } from './clean.js';
import { SeriesDeduper, type LabelSetDedupeState, type SeriesDedupeState } from './dedupe.js';
import { createMetricFilter, type MetricFilter } from './filter.js';
import { encodeSeriesPrefix } from './line-protocol.js';
import { compileTagMapping, tagMappingOf, type TagMapper } from './schema-map.js';

/**
 * Where transformed series go: the line batcher, or an export's dataset writer (which wants the
 * mapped tags rather than the encoded prefix). `block` is only valid during the call.
 */
export interface SeriesOutput {
  /**
   * `shared`: another label set of the run maps to the same InfluxDB series (a label collision),
   * so its blocks of a chunk may interleave in time with this one's (see encodeNew).
   */
  append(
    prefix: Uint8Array,
    block: SeriesBlock,
    tags: readonly [string, string][],
    shared: boolean,
  ): void;
}

/** One InfluxDB series (measurement + tags) of the run: how many label sets map to it. */
interface SeriesIdentity {
  labelSets: number;
}

interface EncodedSeries {
  prefix: Uint8Array;
  /** The label set mapped to tags (before line-protocol escaping). */
  tags: readonly [string, string][];
  dedupe: SeriesDedupeState;
  /** This label set's own part: tells its duplicates from another label set's points. */
  labelSet: LabelSetDedupeState;
  identity: SeriesIdentity;
}

/**
 * The transform stage for one query's run: whitelist → clean → map to tags → de-duplicate →
 * encode. Holds the run's state (dedupe watermarks per series, encoded prefixes per label set),
 * so one instance serves every chunk of one range, in range order.
 */
export class SeriesTransformer {
  private readonly filter: MetricFilter;
  private readonly mapTags: TagMapper;
  private readonly measurement: string;
  private readonly field: string;
  private readonly deduper = new SeriesDeduper();
  /**
   * Encoded prefix per label set, for the whole run: every chunk of a range returns the same series
   * (as new objects when they do not come from the decoder's cache), and mapping + encoding them
   * again cost ~5 µs a series a chunk. Bounded by the number of series, like the de-duplicator's
   * state.
   */
  private readonly encoded = new Map<string, EncodedSeries>();
  /** The same, keyed by the label object: the decoder interns label sets across chunks. */
  private readonly encodedByIdentity = new WeakMap<Labels, EncodedSeries>();
  private readonly identities = new Map<string, SeriesIdentity>();
  /** encodeNew's blocks' labels of the previous chunk, in their order. */
  private readonly lastLabels: Labels[] = [];
  private readonly maxFutureSkewMs: number;
  private readonly limits: CleanLimits = { maxTimestampMs: 0 };

  constructor(
    query: QueryConfig,
    transform: TransformConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.filter = createMetricFilter(transform.validMetrics, query.expr);
    this.mapTags = compileTagMapping(tagMappingOf(query, transform));
    this.measurement = query.measurement ?? transform.measurement;
    this.field = query.field ?? transform.field;
    this.maxFutureSkewMs = transform.maxFutureSkewMs;
  }

  /** Call before the first series of each chunk (chunks must come in range order). */
  startChunk(): void {
    this.deduper.startChunk();
    this.limits.maxTimestampMs = this.now() + this.maxFutureSkewMs;
  }

  /** Call after the last series of each chunk: nothing refers to its blocks afterwards. */
  endChunk(): void {
    this.deduper.startChunk();
  }

  /**
   * Call with a chunk's blocks, after startChunk, when an output needs `shared` right from the
   * first colliding block (rollup tiers): label sets new to the run are encoded now, so that one
   * that collides with a label set coming earlier in the chunk is known before either is appended.
   */
  encodeNew(blocks: readonly SeriesBlock[]): void {
    const last = this.lastLabels;
    for (let i = 0; i < blocks.length; i++) {
      const labels = blocks[i]!.labels;
      // The previous chunk's series at the same place: already seen (chunks list the series in
      // the same order, and a lookup per block was a cache miss each).
      if (last[i] === labels) continue;
      last[i] = labels;
      if (this.encodedByIdentity.has(labels) || !this.filter(labels)) continue;
      this.encode(labels);
    }
  }

  /** Transforms one series block into `out`; returns the number of points kept. */
  processSeries(block: SeriesBlock, out: SeriesOutput, drops: DropCounts): number {
    if (!this.filter(block.labels)) {
      drops.not_whitelisted += block.length + block.nullValues;
      return 0;
    }
    if (dropInvalidSamples(block, this.limits, drops) === 0) return 0;
    const encoded = this.encode(block.labels);
    const kept = this.deduper.dedupe(encoded.dedupe, encoded.labelSet, block, drops);
    out.append(encoded.prefix, block, encoded.tags, encoded.identity.labelSets > 1);
    return kept;
  }

  private encode(labels: Labels): EncodedSeries {
    // The decoder hands out the same object for a series in every chunk: no key to build.
    const known = this.encodedByIdentity.get(labels);
    if (known !== undefined) return known;
    const encoded = this.encodeByKey(labels);
    this.encodedByIdentity.set(labels, encoded);
    return encoded;
  }

  private encodeByKey(labels: Labels): EncodedSeries {
    const labelSet = labelSetKey(labels);
    let encoded = this.encoded.get(labelSet);
    if (!encoded) {
      const tags = this.mapTags(labels);
      const key = encodeSeriesPrefix(this.measurement, tags, this.field);
      let identity = this.identities.get(key);
      if (!identity) this.identities.set(key, (identity = { labelSets: 0 }));
      identity.labelSets++;
      // A Uint8Array of its own, not a (pooled) Buffer: Uint8Array.prototype.set copies from a pooled
      // Buffer slice about twice as slowly, and the prefix is copied once per line.
      encoded = {
        prefix: new Uint8Array(Buffer.from(key)),
        tags,
        dedupe: this.deduper.series(key),
        labelSet: { newestEmitted: -Infinity },
        identity,
      };
      this.encoded.set(labelSet, encoded);
    }
    return encoded;
  }
}

/**
 * Identity of a label set as the decoder delivers it (Prometheus sorts labels by name). Lengths
 * make it unambiguous whatever characters names and values hold.
 */
export function labelSetKey(labels: Labels): string {
  let key = '';
  for (const name in labels) {
    const value = labels[name]!;
    key += `${name.length}:${name}${value.length}:${value}`;
  }
  return key;
}
