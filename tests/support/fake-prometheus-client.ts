import { seriesBlock, type SeriesBlock } from '../../src/core/series.js';
import { QueryError } from '../../src/core/errors.js';
import type { MatrixResult, RangeRequest } from '../../src/extract/types.js';

export interface FakeSeries {
  labels: Record<string, string>;
  /** Value at a grid time, or undefined for "no sample at this step". */
  valueAt: (tMs: number) => number | undefined;
  /**
   * Instead of the grid: these samples, as they are (order and repeats kept), those inside the
   * request's range. For responses Prometheus itself would not send.
   */
  samples?: ReadonlyArray<readonly [number, number]>;
}

/**
 * An in-memory stand-in for PrometheusClient.queryRange that evaluates series on the request's
 * step grid, like Prometheus does (start + k*step <= end). Records every request.
 */
export class FakePrometheusClient {
  readonly requests: RangeRequest[] = [];
  failOn?: (req: RangeRequest) => Error | undefined;

  constructor(private readonly series: FakeSeries[]) {}

  queryRange(req: RangeRequest): Promise<MatrixResult> {
    this.requests.push(req);
    const failure = this.failOn?.(req);
    if (failure) return Promise.reject(failure);
    const out: SeriesBlock[] = [];
    let samples = 0;
    for (const s of this.series) {
      const ts: number[] = [];
      const vs: number[] = [];
      for (const [t, v] of s.samples ?? []) {
        if (t < req.startMs || t > req.endMs) continue;
        ts.push(t);
        vs.push(v);
      }
      for (let t = req.startMs; !s.samples && t <= req.endMs; t += req.stepMs) {
        const v = s.valueAt(t);
        if (v === undefined) continue;
        ts.push(t);
        vs.push(v);
      }
      if (ts.length === 0) continue;
      samples += ts.length;
      out.push(seriesBlock({ ...s.labels }, ts, vs));
    }
    return Promise.resolve({ series: out, warnings: [], infos: [], samples });
  }
}

export function badData(req: RangeRequest): QueryError {
  return new QueryError('QUERY_BAD_DATA', req.name, 'bad_data', 'parse error');
}
