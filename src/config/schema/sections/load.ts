/** The `load` section: the InfluxDB sink, the dead-letter file, the write rate limit. */
import { z } from 'zod';
import { boolean, duration, httpUrl, integer, nonEmptyText, oneOf, text } from '../leaf.js';
import { headerMap } from '../maps.js';
import { retry, RETRY_DEFAULTS, tls } from '../blocks.js';

export const INFLUX_APIS = ['auto', 'v2', 'v1'] as const;

const influxdb = z
  .strictObject({
    url: httpUrl('http://localhost:8086'),
    api: oneOf(INFLUX_APIS).prefault('auto'),
    token: text().optional(),
    token_file: nonEmptyText('a file path').optional(),
    org: text('an organization name').optional(),
    bucket: nonEmptyText(
      'a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"',
    ),
    username: text('a user name').optional(),
    password: text().optional(),
    password_file: nonEmptyText('a file path').optional(),
    timeout: duration({ positive: true, timer: true }).prefault('30s'),
    batch_size: integer(1, 1_000_000).prefault(5000),
    gzip: boolean().prefault(false),
    headers: headerMap(),
    tls: tls(),
    retry: retry(RETRY_DEFAULTS.influxdb),
  })
  .prefault({});

export const load = z
  .strictObject({
    influxdb,
    dead_letter_path: nonEmptyText('a file path').optional(),
    max_points_per_second: integer(1).optional(),
  })
  .prefault({});
