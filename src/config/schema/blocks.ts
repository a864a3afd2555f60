/** Mappings that several sections contain: retry policies, TLS options, credentials, label rules. */
import { z } from 'zod';
import { boolean, duration, integer, nonEmptyText, text } from './leaf.js';
import { list, nonEmptyEntries } from './maps.js';

/** Retry defaults differ per stage: Prometheus answers fast, InfluxDB may need longer to recover. */
export const RETRY_DEFAULTS = {
  extract: { max_attempts: 5, initial_delay: '500ms', max_delay: '30s' },
  influxdb: { max_attempts: 5, initial_delay: '1s', max_delay: '60s' },
} as const;

export function retry(defaults: (typeof RETRY_DEFAULTS)[keyof typeof RETRY_DEFAULTS]) {
  return z
    .strictObject({
      max_attempts: integer(1, 100).prefault(defaults.max_attempts),
      initial_delay: duration({ timer: true }).prefault(defaults.initial_delay),
      max_delay: duration({ positive: true, timer: true }).prefault(defaults.max_delay),
    })
    .prefault({});
}

export function tls() {
  return z
    .strictObject({
      ca_file: nonEmptyText('a file path').optional(),
      cert_file: nonEmptyText('a file path').optional(),
      key_file: nonEmptyText('a file path').optional(),
      insecure_skip_verify: boolean().prefault(false),
      server_name: nonEmptyText('a host name').optional(),
    })
    .prefault({});
}

/** `basic_auth: {username, password | password_file}` (optional). */
export function basicAuth() {
  return z
    .strictObject({
      username: nonEmptyText('a user name'),
      password: text().optional(),
      password_file: nonEmptyText('a file path').optional(),
    })
    .optional();
}

export const labelRules = z.strictObject({
  drop: list(nonEmptyText('a label name'), 'label names'),
  keep: list(nonEmptyText('a label name'), 'label names'),
  rename: nonEmptyEntries('label names to new names'),
});
