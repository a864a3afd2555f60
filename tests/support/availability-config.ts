import { join } from 'node:path';

/**
 * The smallest promflux config for a backfill test: the one query `availability` (`up`),
 * `load.influxdb` as the given YAML flow map, and the dead-letter file and state directory
 * named after `name` under `dir`.
 */
export function availabilityConfig(opts: {
  prometheusUrl: string;
  influxdb: string;
  dir: string;
  name: string;
  stateDir?: string;
}): string {
  const { prometheusUrl, influxdb, dir, name } = opts;
  return `extract:
  prometheus_url: "${prometheusUrl}"
  queries:
    - { name: availability, query: "up" }
load:
  influxdb: ${influxdb}
  dead_letter_path: "${join(dir, `${name}.dead-letter.jsonl`)}"
pipeline:
  delay: 0s
  log_level: warn
  state_dir: "${opts.stateDir ?? join(dir, `${name}-state`)}"
`;
}
