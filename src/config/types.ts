import type { HttpEndpointOptions } from '../core/http.js';
import type { LogLevel } from '../core/logger.js';
import type { KindSetting } from '../core/metric-kind.js';
import type { RetryPolicy } from '../core/retry.js';

/**
 * The configuration after loading: env interpolated, secret files read, defaults filled, durations
 * converted to milliseconds (every field named `...Ms`). The YAML spells keys in snake_case and
 * durations as `15s` / `5m` / `24h` or plain seconds; see config/promflux.example.yaml.
 */
export interface PromfluxConfig {
  extract: ExtractConfig;
  transform: TransformConfig;
  load: LoadConfig;
  pipeline: PipelineConfig;
  server: ServerConfig;
}

export interface ServerConfig {
  /** `host:port` of the daemon's HTTP server (/metrics, /healthz, /readyz, /status), or false. */
  listen: string | false;
  /** Credentials `/status` and `/` require (and `/metrics` with `protectMetrics`); none: open. */
  auth?: ServerAuthConfig;
}

/** `server.auth`: a request passes with the bearer token or the Basic credentials (either). */
export interface ServerAuthConfig {
  bearerToken?: string;
  basic?: { username: string; password: string };
  /** `/metrics` requires the credentials too (default: open, as Prometheus exporters are). */
  protectMetrics: boolean;
}

export interface ExtractConfig {
  /** `prometheus_url` + `timeout` + `headers` + `basic_auth`/`bearer_token` + `tls`. */
  endpoint: HttpEndpointOptions;
  /** Extra query parameters sent with every range query (Thanos `dedup`, `partial_response`, ...). */
  params: Record<string, string>;
  /** Range requests in flight at once, per query (prefetch window). */
  concurrency: number;
  /** Samples budget per request (series × points): sizes chunks so memory stays bounded. */
  maxSamplesPerRequest: number;
  /** Points per series per request; Prometheus refuses more than 11,000. */
  maxPointsPerSeries: number;
  /** A response with more series fails its query (a memory guard); undefined: no limit. */
  maxSeriesPerResponse?: number;
  retry: RetryPolicy;
  /** `queries`, or the four default health queries when absent. Names are unique. */
  queries: QueryConfig[];
}

export interface QueryConfig {
  /** Unique name; becomes the `metric_type` tag. */
  name: string;
  /** The PromQL expression (`query` in YAML). */
  expr: string;
  /** Evaluation step (`step`, default 15s). */
  stepMs: number;
  /** Per-query overrides of the transform's schema mapping. */
  measurement?: string;
  field?: string;
  /** Extra static tags for this query only (merged over transform.static_tags). */
  tags: Record<string, string>;
  /** Per-query label rules, applied after the global ones. */
  labels?: LabelRules;
  /** How rollups treat the values (`kind`); loaded configs always set it (default `auto`). */
  kind?: KindSetting;
  /** The tiers this query feeds (`tiers`); loaded configs always set it (default: every tier). */
  tiers?: string[];
}

/** One storage tier (`load.tiers[i]`, or the one raw tier `load.influxdb.bucket` means). */
export interface TierConfig {
  /** Unique; what a query's `tiers` lists. */
  name: string;
  /** 2.x/Cloud: bucket; 3.x: database; 1.x: `database/retention_policy` or `database`. */
  bucket: string;
  /** 0 = kept forever. */
  retentionMs: number;
  /** Set on the tier of `load.influxdb.bucket`, which configures no retention: left as it is. */
  retentionUnmanaged?: true;
  /** Rollup window length; undefined for a raw tier. */
  resolutionMs?: number;
}

export interface LabelRules {
  /** Label names removed before tagging. */
  drop: string[];
  /** When non-empty: only these labels (after rename) become tags, besides service/instance/metric_type. */
  keep: string[];
  /** Label renames, applied first: `{from: to}`. */
  rename: Record<string, string>;
}

export interface TransformConfig {
  /** `valid_metrics`: exact metric names or `/regex/` strings. Empty = keep everything. */
  validMetrics: string[];
  measurement: string;
  field: string;
  labels: LabelRules;
  staticTags: Record<string, string>;
  /** Samples stamped further than this into the future are dropped (`max_future_skew`). */
  maxFutureSkewMs: number;
}

export type InfluxApi = 'auto' | 'v1' | 'v2';

export interface InfluxSinkConfig {
  /** `url` + `timeout` + `headers` + `tls`; auth here is `none` (the token/user live below). */
  endpoint: HttpEndpointOptions;
  api: InfluxApi;
  token?: string;
  org?: string;
  /**
   * `bucket`, or the first raw tier's (rollup tiers only: the first tier's); each tier's sink gets
   * its own. 2.x/3.x: bucket; 1.x: `db` or `db/rp`.
   */
  bucket: string;
  username?: string;
  password?: string;
  batchSize: number;
  gzip: boolean;
  retry: RetryPolicy;
}

export interface LoadConfig {
  /** Writes are throttled to this many points per second, when set. */
  maxPointsPerSecond?: number;
  influxdb: InfluxSinkConfig;
  /** The storage tiers in the order written (`load.tiers`, or one raw tier for `bucket`); never empty. */
  tiers: TierConfig[];
  /** Create missing databases / retention policies / buckets at start (`provision`, default false). */
  provision: boolean;
  /** `load.export`: the daemon also writes each complete hour as a dataset file per query. */
  export?: ContinuousExportConfig;
  /** JSON-lines file for rejected lines (`dead_letter_path`, default `<state_dir>/dead-letter.jsonl`). */
  deadLetterPath: string;
}

export interface ContinuousExportConfig {
  /** The dataset directory (absolute). */
  dir: string;
  format: 'parquet' | 'csv';
}

export interface PipelineConfig {
  intervalSeconds: number;
  /** Newest data left out of a cycle, still being scraped (`delay`, default 60s). */
  delayMs: number;
  logLevel: LogLevel;
  stateDir: string;
  /** How far back `promflux run` starts a query it has no watermark for (default: the interval). */
  initialLookbackMs: number;
  /** The most one daemon cycle catches up after downtime (default 24h); older data is a gap. */
  maxCatchupMs: number;
  /** How long SIGTERM/SIGINT let the in-flight cycle finish before abandoning it (default 30s). */
  shutdownGraceMs: number;
  /** Cron expression for cycle starts (instead of every interval_seconds), if set. */
  schedule?: string;
  /** Random delay before the first cycle, up to this (spreads replicas). */
  startJitterMs: number;
  /** Windows are held back this long for data that arrives late (`lateness`, default 0). */
  latenessMs: number;
  /** The last N emitted windows recomputed each cycle (`rewrite_windows`, default 0). */
  rewriteWindows: number;
  /** This replica's share of the queries (see ownsQuery); `{0, 1}` owns them all. */
  shard: { index: number; count: number };
}
